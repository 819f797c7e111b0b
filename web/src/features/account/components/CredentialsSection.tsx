import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Notice, type NoticeMessage } from '../../../components/Notice';
import { changeEmail, changePassword } from '../api/account';
import { useFocusInvalid } from '../hooks/useFocusInvalid';
import { describeAccountError } from './errors';
import { Field } from './Field';

/** Change the sign-in email and the password; both need the current password. */
export function CredentialsSection({ onPasswordChanged }: { onPasswordChanged: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('account.credentials.title')}</h2>
      <ChangeEmailForm />
      <ChangePasswordForm onChanged={onPasswordChanged} />
    </section>
  );
}

/** Field errors go next to their input; anything else is a message under the form. */
function useFormErrors() {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const formRef = useFocusInvalid(errors);
  const clear = () => {
    setErrors({});
    setMessage(null);
  };
  const show = (d: { field?: string; text: string }, fields: string[]) => {
    if (d.field && fields.includes(d.field)) setErrors({ [d.field]: d.text });
    else setMessage({ kind: 'error', text: d.text });
  };
  return { errors, message, setMessage, formRef, clear, show };
}

function ChangeEmailForm() {
  const { t } = useTranslation();
  const id = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const { errors, message, setMessage, formRef, clear, show } = useFormErrors();
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    clear();
    try {
      const user = await changeEmail({ email, current_password: password });
      setEmail('');
      setPassword('');
      setMessage({ kind: 'success', text: t('account.credentials.emailDone', { email: user.email }) });
    } catch (err) {
      show(describeAccountError(t, err, {}, { email_taken: 'account.credentials.emailTaken' }), ['email', 'current_password']);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form ref={formRef} noValidate onSubmit={(e) => void onSubmit(e)} aria-labelledby={`${id}-h`} className="subform" data-testid="email-form">
      <h3 id={`${id}-h`}>{t('account.credentials.emailTitle')}</h3>
      <Field label={t('account.credentials.newEmail')} name="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
      <Field
        label={t('account.credentials.currentPassword')}
        name="current_password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.current_password}
      />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy} data-testid="email-save">
          {t('account.credentials.emailSubmit')}
        </button>
      </div>
      <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
    </form>
  );
}

function ChangePasswordForm({ onChanged }: { onChanged: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [busy, setBusy] = useState(false);
  const { errors, message, setMessage, formRef, clear, show } = useFormErrors();
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    clear();
    try {
      await changePassword({ current_password: current, new_password: next });
      setCurrent('');
      setNext('');
      setMessage({ kind: 'success', text: t('account.credentials.passwordDone') });
      onChanged();
    } catch (err) {
      show(describeAccountError(t, err), ['current_password', 'new_password']);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form ref={formRef} noValidate onSubmit={(e) => void onSubmit(e)} aria-labelledby={`${id}-h`} className="subform" data-testid="password-form">
      <h3 id={`${id}-h`}>{t('account.credentials.passwordTitle')}</h3>
      <Field
        label={t('account.credentials.currentPassword')}
        name="current_password"
        type="password"
        autoComplete="current-password"
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={errors.current_password}
      />
      <Field
        label={t('account.credentials.newPassword')}
        name="new_password"
        type="password"
        autoComplete="new-password"
        value={next}
        onChange={(e) => setNext(e.target.value)}
        error={errors.new_password}
        hint={t('account.passwordHint')}
      />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy} data-testid="password-save">
          {t('account.credentials.passwordSubmit')}
        </button>
      </div>
      <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
    </form>
  );
}
