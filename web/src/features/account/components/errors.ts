import type { TFunction } from 'i18next';
import { ApiError, OfflineError } from '../../../lib/api';

export interface Described {
  /** The form input the message belongs next to, if any. */
  field?: string;
  text: string;
}

const FIELD_MESSAGES: Record<string, string> = {
  email: 'account.errors.email',
  password: 'account.errors.password',
  new_password: 'account.errors.password',
  current_password: 'account.errors.currentPassword',
  native_language: 'account.errors.language',
  learning_language: 'account.errors.language',
};

/**
 * A user-facing message for any error of the account API, by code and field.
 * `fieldMessages` (field → key) and `codeMessages` (code → key) let a form say
 * it in its own words.
 */
export function describeAccountError(t: TFunction, e: unknown, fieldMessages: Record<string, string> = {}, codeMessages: Record<string, string> = {}): Described {
  if (e instanceof OfflineError) return { text: t('account.errors.offline') };
  if (!(e instanceof ApiError)) return { text: t('errors.generic', { reason: e instanceof Error ? e.message : String(e) }) };
  switch (e.code) {
    case 'email_taken':
      return { field: 'email', text: t(codeMessages[e.code] ?? 'account.errors.emailTaken') };
    case 'invalid_credentials':
      return { text: t('account.errors.invalidCredentials') };
    case 'rate_limited':
      return { text: t('account.errors.rateLimited', { minutes: Math.max(1, Math.ceil((e.retryAfter ?? 60) / 60)) }) };
    case 'unauthorized':
      return { text: t('account.errors.unauthorized') };
    case 'billing_disabled':
      return { text: t('account.plan.billingDisabled') };
    case 'already_subscribed':
      return { text: t('account.plan.alreadySubscribed') };
    case 'payment_provider_error':
      return { text: t('account.plan.providerError') };
    case 'no_billing_account':
      return { text: t('account.plan.noBillingAccount') };
  }
  const key = e.field ? (fieldMessages[e.field] ?? FIELD_MESSAGES[e.field]) : undefined;
  if (e.field) return { field: e.field, text: key ? t(key) : e.detail || e.code };
  return { text: t('errors.generic', { reason: e.detail || e.code }) };
}
