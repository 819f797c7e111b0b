import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';

export function NotFoundRoute() {
  const { t } = useTranslation();
  return (
    <section className="page">
      <p>{t('practice.notFound')}</p>
      <Link to="/">{t('practice.back')}</Link>
    </section>
  );
}
