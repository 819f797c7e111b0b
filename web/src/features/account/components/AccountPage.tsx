import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router';
import { Notice, type NoticeMessage } from '../../../components/Notice';
import type { StoredSession } from '../../../db';
import { ApiError, OfflineError } from '../../../lib/api';
import { formatBytes } from '../../../lib/format';
import { deleteAccount, downloadExport, revokeSession, signOut, signOutEverywhere, startBillingPortal, startCheckout, updateLanguages, type ServerSession } from '../api/account';
import { BackupPanel } from '../../sync';
import { useAccountData, useSession } from '../hooks/useAccount';
import { CredentialsSection } from './CredentialsSection';
import { describeAccountError } from './errors';
import { Field } from './Field';
import { LanguageList } from './LanguageList';

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

export function AccountPage() {
  const { t } = useTranslation();
  const session = useSession();
  const { state } = useLocation() as { state: { accountDeleted?: boolean; signedOutEverywhere?: boolean } | null };
  if (session === undefined) return null;
  if (!session) {
    return (
      <section className="page narrow">
        <h1>{t('account.title')}</h1>
        {state?.accountDeleted && <Notice message={{ kind: 'success', text: t('account.delete.done') }} />}
        {state?.signedOutEverywhere && <Notice message={{ kind: 'success', text: t('account.sessions.everywhereDone') }} />}
        <p data-testid="signed-out">{t('account.signedOut')}</p>
        <p className="form-actions">
          <Link className="btn primary" to="/signin">
            {t('account.signIn')}
          </Link>
          <Link className="btn" to="/signup">
            {t('account.signUp')}
          </Link>
        </p>
      </section>
    );
  }
  return <SignedIn session={session} />;
}

function SignedIn({ session }: { session: StoredSession }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const data = useAccountData(true);
  const offline = data.error instanceof OfflineError;
  const loadError = data.error && !offline ? describeAccountError(t, data.error).text : null;
  return (
    <section className="page narrow account" data-testid="account-page">
      <h1>{t('account.title')}</h1>
      {offline && <Notice message={{ kind: 'info', text: t('account.offline') }} />}
      {loadError && <Notice message={{ kind: 'error', text: loadError }} />}
      <section className="panel">
        <dl className="facts">
          <dt>{t('account.email')}</dt>
          <dd data-testid="account-email">{session.user.email}</dd>
        </dl>
        <button
          type="button"
          className="btn"
          data-testid="sign-out"
          onClick={() =>
            void (async () => {
              await signOut();
              void navigate('/');
            })()
          }
        >
          {t('account.signOut')}
        </button>
      </section>
      <BackupPanel />
      <LanguagesForm session={session} />
      <CredentialsSection onPasswordChanged={data.reload} />
      <PlanSection data={data} />
      <SessionsSection
        sessions={data.sessions}
        reload={data.reload}
        onSignedOutEverywhere={() => void navigate('/account', { replace: true, state: { signedOutEverywhere: true } })}
      />
      <ExportSection />
      <DeleteSection onDeleted={() => void navigate('/account', { replace: true, state: { accountDeleted: true } })} />
    </section>
  );
}

function LanguagesForm({ session }: { session: StoredSession }) {
  const { t } = useTranslation();
  const id = useId();
  const [native, setNative] = useState(session.user.native_language);
  const [learning, setLearning] = useState(session.user.learning_language ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setMessage(null);
    try {
      const user = await updateLanguages({ native_language: native.trim(), learning_language: learning.trim() || null });
      setNative(user.native_language);
      setLearning(user.learning_language ?? '');
      setMessage({ kind: 'success', text: t('account.languagesSaved') });
    } catch (err) {
      const d = describeAccountError(t, err);
      if (d.field) setErrors({ [d.field]: d.text });
      else setMessage({ kind: 'error', text: d.text });
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('account.languages')}</h2>
      <form noValidate onSubmit={(e) => void onSubmit(e)} className="inline-form" data-testid="languages-form">
        <Field className="grow" label={t('account.nativeLanguage')} name="native_language" list={`${id}-langs`} value={native} onChange={(e) => setNative(e.target.value)} error={errors.native_language} />
        <Field className="grow" label={t('account.learningLanguage')} name="learning_language" list={`${id}-langs`} value={learning} onChange={(e) => setLearning(e.target.value)} error={errors.learning_language} />
        <LanguageList id={`${id}-langs`} />
        <button type="submit" className="btn primary" data-testid="languages-save">
          {t('library.save')}
        </button>
      </form>
      <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
    </section>
  );
}

function PlanSection({ data }: { data: ReturnType<typeof useAccountData> }) {
  const { t } = useTranslation();
  const id = useId();
  // Back from Stripe: Checkout's success and cancel URLs land here (routes `billing/*`).
  const { state } = useLocation() as { state: { billingReturn?: 'success' | 'cancel' } | null };
  const [message, setMessage] = useState<NoticeMessage | null>(() =>
    state?.billingReturn === 'success'
      ? { kind: 'success', text: t('account.plan.checkoutDone') }
      : state?.billingReturn === 'cancel'
        ? { kind: 'info', text: t('account.plan.checkoutCancelled') }
        : null,
  );
  const [busy, setBusy] = useState(false);
  // The server says whether billing is configured only when asked to bill
  // (`503 billing_disabled`); from then on both buttons stay disabled with the reason.
  const [billingOff, setBillingOff] = useState(false);
  const ent = data.entitlements;
  /** Checkout and the Billing Portal: ask the server for the Stripe URL, then go there. */
  const redirect = async (start: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      window.location.assign(await start());
    } catch (err) {
      if (err instanceof ApiError && err.code === 'billing_disabled') setBillingOff(true);
      setMessage({ kind: 'error', text: describeAccountError(t, err).text });
    } finally {
      setBusy(false);
    }
  };
  const offReason = billingOff ? `${id}-off` : undefined;
  return (
    <section className="panel" aria-labelledby={`${id}-h`} data-testid="plan-section">
      <h2 id={`${id}-h`}>{t('account.plan.title')}</h2>
      {ent ? (
        <dl className="facts">
          <dt>{t('account.plan.plan')}</dt>
          <dd>
            <span data-testid="plan">{ent.plan}</span> <span className="muted">({ent.status})</span>
          </dd>
          {data.subscription?.current_period_end && (
            <>
              <dt>{t('account.plan.periodEnd')}</dt>
              <dd>{when(data.subscription.current_period_end)}</dd>
            </>
          )}
          <dt>{t('account.plan.storage')}</dt>
          <dd data-testid="usage-storage">{t('account.plan.usedOf', { used: formatBytes(ent.usage.storage_bytes, 1000), limit: formatBytes(ent.limits.storage_bytes, 1000) })}</dd>
          <dt>{t('account.plan.asr')}</dt>
          <dd data-testid="usage-asr">{t('account.plan.minutesOf', { used: ent.usage.asr_minutes_this_month, limit: ent.limits.asr_minutes_per_month })}</dd>
          <dt>{t('account.plan.assessments')}</dt>
          <dd>{t('account.plan.usedOf', { used: ent.usage.assessments_today, limit: ent.limits.assessments_per_day })}</dd>
          <dt>{t('account.plan.largeMedia')}</dt>
          <dd>{ent.limits.large_media_backup ? t('account.plan.yes') : t('account.plan.no')}</dd>
        </dl>
      ) : (
        <p className="muted">{data.loading ? t('app.checking') : t('account.unavailable')}</p>
      )}
      <div className="form-actions">
        {ent?.plan !== 'pro' && (
          <button type="button" className="btn primary" disabled={busy || !ent || billingOff} aria-describedby={offReason} onClick={() => void redirect(startCheckout)} data-testid="upgrade">
            {t('account.plan.upgrade')}
          </button>
        )}
        {data.subscription?.stripe_customer_id && (
          <button type="button" className="btn" disabled={busy || billingOff} aria-describedby={offReason} onClick={() => void redirect(startBillingPortal)} data-testid="manage-billing">
            {t('account.plan.manageBilling')}
          </button>
        )}
      </div>
      <div id={`${id}-off`}>
        <Notice message={message} onClose={billingOff ? undefined : () => setMessage(null)} closeLabel={t('help.close')} />
      </div>
    </section>
  );
}

function SessionsSection({ sessions, reload, onSignedOutEverywhere }: { sessions?: ServerSession[]; reload: () => void; onSignedOutEverywhere: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const [busy, setBusy] = useState(false);
  const everywhere = async () => {
    setBusy(true);
    setMessage(null);
    try {
      await signOutEverywhere();
      onSignedOutEverywhere();
    } catch (err) {
      setMessage({ kind: 'error', text: describeAccountError(t, err).text });
      setBusy(false);
    }
  };
  const revoke = async (s: ServerSession) => {
    setMessage(null);
    try {
      await revokeSession(s.id);
      reload();
    } catch (err) {
      setMessage({ kind: 'error', text: describeAccountError(t, err).text });
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('account.sessions.title')}</h2>
      {sessions ? (
        <ul className="session-list" data-testid="session-list">
          {sessions.map((s) => (
            <li key={s.id} data-testid="session" data-session-id={s.id} data-current={s.current}>
              <div>
                <strong>{s.user_agent || t('account.sessions.unknownDevice')}</strong>
                {s.current && <span className="badge">{t('account.sessions.thisDevice')}</span>}
                <div className="muted small">
                  {t('account.sessions.times', { created: when(s.created_at), used: when(s.last_used_at) })}
                </div>
              </div>
              {!s.current && (
                <button type="button" className="btn small danger" onClick={() => void revoke(s)} data-testid="revoke-session">
                  {t('account.sessions.revoke')}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{t('account.unavailable')}</p>
      )}
      <div className="form-actions">
        <button type="button" className="btn danger" disabled={busy} aria-describedby={`${id}-all`} onClick={() => void everywhere()} data-testid="sign-out-everywhere">
          {t('account.sessions.signOutEverywhere')}
        </button>
        <span id={`${id}-all`} className="muted small">
          {t('account.sessions.everywhereAbout')}
        </span>
      </div>
      <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
    </section>
  );
}

function ExportSection() {
  const { t } = useTranslation();
  const id = useId();
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const run = async () => {
    setMessage(null);
    try {
      const { blob, fileName } = await downloadExport();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      setMessage({ kind: 'error', text: describeAccountError(t, err).text });
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('account.export.title')}</h2>
      <p className="muted">{t('account.export.about')}</p>
      <button type="button" className="btn" onClick={() => void run()} data-testid="export">
        {t('account.export.button')}
      </button>
      <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
    </section>
  );
}

function DeleteSection({ onDeleted }: { onDeleted: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setMessage(null);
    try {
      await deleteAccount(password);
      onDeleted();
    } catch (err) {
      const d = describeAccountError(t, err, { password: 'account.errors.currentPassword' });
      if (d.field === 'password') setError(d.text);
      else setMessage({ kind: 'error', text: d.text });
    }
  };
  return (
    <section className="panel danger-zone" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('account.delete.title')}</h2>
      <p className="muted">{t('account.delete.about')}</p>
      {open ? (
        <form noValidate onSubmit={(e) => void onSubmit(e)} data-testid="delete-form">
          <Field label={t('account.delete.password')} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={error} />
          <div className="form-actions">
            <button type="submit" className="btn danger" data-testid="delete-confirm">
              {t('account.delete.confirm')}
            </button>
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              {t('library.cancel')}
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="btn danger" onClick={() => setOpen(true)} data-testid="delete-account">
          {t('account.delete.button')}
        </button>
      )}
      <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
    </section>
  );
}
