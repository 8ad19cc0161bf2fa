/**
 * The pages of the registration flow as data (view models), each with its HTTP status. Rendering is
 * `registration-html.ts`; deciding which page to show is `registration-flow.ts`.
 */
import type { ContactValues, FieldErrors } from './registration-form';
import type { TenantState } from './tenant';

/** A page of the registration flow. */
export type RegistrationPage =
  /** The contact form of an open session (with the values kept and an error per invalid field). */
  | { readonly kind: 'form'; readonly sessionId: string; readonly values: ContactValues; readonly errors: FieldErrors }
  /** Registered: the tenant id and what happens next (depends on the tenant's state). */
  | { readonly kind: 'success'; readonly tenantId: string; readonly state: TenantState; readonly companyName: string; readonly contactEmail: string }
  /** No token: the page must be reached from AWS Marketplace (GET: 200, POST without token: 400, other methods: 405). */
  | { readonly kind: 'start-from-marketplace'; readonly status: 200 | 400 | 405 }
  /** ResolveCustomer: InvalidTokenException. */
  | { readonly kind: 'invalid-token' }
  /** ResolveCustomer: ExpiredTokenException. */
  | { readonly kind: 'expired-token' }
  /** The token already completed a registration. */
  | { readonly kind: 'already-used' }
  /** The session is unknown, expired or was already submitted. */
  | { readonly kind: 'session-expired' }
  /** The body is too large (413) or not a form (415). */
  | { readonly kind: 'unreadable-request'; readonly status: 413 | 415 }
  /** An AWS call failed: a reference id the buyer can quote, never details. */
  | { readonly kind: 'service-error'; readonly referenceId: string };

/** The HTTP status of a page. */
export function statusOf(page: RegistrationPage): number {
  switch (page.kind) {
    case 'form':
      return Object.keys(page.errors).length > 0 ? 400 : 200;
    case 'success':
      return 200;
    case 'start-from-marketplace':
    case 'unreadable-request':
      return page.status;
    case 'invalid-token':
    case 'expired-token':
    case 'session-expired':
      return 400;
    case 'already-used':
      return 409;
    case 'service-error':
      return 502;
  }
}

/** An HTTP response (API Gateway proxy shape, without multi-value headers). */
export interface RegistrationResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}
