import type { DimensionConfig } from './metering-config';

/** Distinct requests of one tenant in one hour with the same path, method and status. */
export interface RequestGroup {
  readonly tenantId: string;
  /** Start of the usage hour, epoch ms. */
  readonly hour: number;
  readonly resourcePath: string;
  readonly httpMethod: string;
  readonly status: number;
  readonly requests: number;
  readonly responseBytes: number;
}

/** The true quantity of one tenant, dimension and hour. */
export interface Measurement {
  readonly tenantId: string;
  readonly dimension: string;
  readonly hour: number;
  readonly quantity: number;
}

interface CompiledDimension {
  readonly name: string;
  readonly measure: DimensionConfig['measure'];
  matches(group: RequestGroup): boolean;
}

function compile(dimension: DimensionConfig): CompiledDimension {
  const anyPath = dimension.match.resourcePaths.includes('*');
  const paths = new Set(dimension.match.resourcePaths);
  const anyMethod = dimension.match.methods.includes('*');
  const methods = new Set<string>(dimension.match.methods);
  const statuses = dimension.match.statuses;
  return {
    name: dimension.name,
    measure: dimension.measure,
    matches: (group) =>
      (anyPath || paths.has(group.resourcePath)) &&
      (anyMethod || methods.has(group.httpMethod)) &&
      statuses.some((range) => group.status >= range.from && group.status <= range.to),
  };
}

/**
 * Turns request groups (from the hourly SQL) into measurements per tenant, dimension and hour,
 * following the configured dimensions. A group can count toward several dimensions; quantities are
 * exact integers.
 */
export function measureRequestGroups(groups: readonly RequestGroup[], dimensions: readonly DimensionConfig[]): Measurement[] {
  const compiled = dimensions.map(compile);
  const totals = new Map<string, { tenantId: string; dimension: string; hour: number; quantity: number }>();
  for (const group of groups) {
    for (const dimension of compiled) {
      if (!dimension.matches(group)) continue;
      const amount = dimension.measure === 'requests' ? group.requests : group.responseBytes;
      const key = `${group.tenantId}\u0000${dimension.name}\u0000${group.hour}`;
      const total = totals.get(key);
      if (total) total.quantity += amount;
      else totals.set(key, { tenantId: group.tenantId, dimension: dimension.name, hour: group.hour, quantity: amount });
    }
  }
  for (const total of totals.values()) {
    if (!Number.isSafeInteger(total.quantity)) throw new Error(`quantity of ${total.tenantId}/${total.dimension} is not an exact integer`);
  }
  return [...totals.values()];
}
