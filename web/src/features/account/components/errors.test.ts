import { describe, expect, it } from 'vitest';
import i18n from '../../../lib/i18n';
import { ApiError, OfflineError } from '../../../lib/api';
import { describeAccountError } from './errors';

const t = i18n.t.bind(i18n);
const problem = (status: number, code: string, field?: string, detail = '') => new ApiError({ status, code, field, detail });

describe('describeAccountError', () => {
  it('puts a wrong current password next to its input', () => {
    expect(describeAccountError(t, problem(422, 'validation_failed', 'current_password', 'is incorrect'))).toEqual({
      field: 'current_password',
      text: 'The password is not correct.',
    });
  });

  it('names a too short new password on its input', () => {
    expect(describeAccountError(t, problem(422, 'validation_failed', 'new_password'))).toEqual({ field: 'new_password', text: expect.stringMatching(/8 to 1024/) as string });
  });

  it('says email_taken next to the email, in the words of the form that asks', () => {
    expect(describeAccountError(t, problem(409, 'email_taken')).text).toMatch(/Sign in instead/);
    expect(describeAccountError(t, problem(409, 'email_taken'), {}, { email_taken: 'account.credentials.emailTaken' })).toEqual({
      field: 'email',
      text: 'Another account already uses this email.',
    });
  });

  it('explains billing answers without a field', () => {
    expect(describeAccountError(t, problem(503, 'billing_disabled'))).toEqual({ text: expect.stringMatching(/billing is not configured/) as string });
    expect(describeAccountError(t, problem(409, 'no_billing_account'))).toEqual({ text: expect.stringMatching(/upgrade first/) as string });
  });

  it('says offline rather than failed when the server cannot be reached', () => {
    expect(describeAccountError(t, new OfflineError()).text).toMatch(/cannot be reached/);
  });
});
