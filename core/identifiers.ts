/**
 * The shapes of the identifiers that cross module boundaries, defined once: what one module accepts,
 * the next must not refuse.
 */

/** A tenant id as the system issues and accepts it: 1-64 letters, digits, `_`, `.` or `-`. */
export const TENANT_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A billing dimension (request dimension, meter, priced dimension): 1-64 lowercase letters, digits or `_`, starting with a letter. */
export const DIMENSION_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** A usage event's idempotency id: 1-128 letters, digits or `._:@/+=-`, starting with a letter or digit. */
export const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/;

/** A usage-event property name: 1-64 letters, digits or `_`, not starting with a digit. */
export const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
