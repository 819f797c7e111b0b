import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { Notice, type NoticeMessage } from '../../../components/Notice';
import { signIn, signUp } from '../api/account';
import { describeAccountError } from './errors';
import { Field } from './Field';
import { browserLanguage, LanguageList } from './LanguageList';

type Mode = 'signup' | 'signin';

/** Sign-up and sign-in. Validation is the server's; its errors land next to the right input. */
export function AuthForm({ mode }: { mode: Mode }) {
  const { t } = useTranslation();
  const id = useId();
  const navigate = useNavigate();
  const [form, setForm] = useState({ email: '', password: '', native_language: browserLanguage(), learning_language: '' });
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [name]: e.target.value }));

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFieldErrors({});
    setMessage(null);
    try {
      if (mode === 'signup') await signUp(form);
      else await signIn({ email: form.email, password: form.password });
      void navigate('/account');
    } catch (err) {
      const d = describeAccountError(t, err);
      if (d.field) setFieldErrors({ [d.field]: d.text });
      else setMessage({ kind: 'error', text: d.text });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page narrow" aria-labelledby={`${id}-h`}>
      <h1 id={`${id}-h`}>{mode === 'signup' ? t('account.signUp') : t('account.signIn')}</h1>
      <p className="muted">{t('account.localFirst')}</p>
      <form className="panel auth-form" noValidate onSubmit={(e) => void onSubmit(e)} data-testid={`${mode}-form`}>
        <Field label={t('account.email')} name="email" type="email" autoComplete="email" required value={form.email} onChange={set('email')} error={fieldErrors.email} />
        <Field
          label={t('account.password')}
          name="password"
          type="password"
          autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
          required
          value={form.password}
          onChange={set('password')}
          error={fieldErrors.password}
          hint={mode === 'signup' ? t('account.passwordHint') : undefined}
        />
        {mode === 'signup' && (
          <>
            <Field
              label={t('account.nativeLanguage')}
              name="native_language"
              list={`${id}-langs`}
              required
              value={form.native_language}
              onChange={set('native_language')}
              error={fieldErrors.native_language}
              hint={t('account.languageHint')}
            />
            <Field
              label={t('account.learningLanguage')}
              name="learning_language"
              list={`${id}-langs`}
              value={form.learning_language}
              onChange={set('learning_language')}
              error={fieldErrors.learning_language}
            />
            <LanguageList id={`${id}-langs`} />
          </>
        )}
        <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
        <div className="form-actions">
          <button type="submit" className="btn primary" disabled={busy} data-testid={`${mode}-submit`}>
            {mode === 'signup' ? t('account.signUp') : t('account.signIn')}
          </button>
          {mode === 'signup' ? (
            <Link to="/signin">{t('account.haveAccount')}</Link>
          ) : (
            <Link to="/signup">{t('account.noAccount')}</Link>
          )}
        </div>
      </form>
    </section>
  );
}
