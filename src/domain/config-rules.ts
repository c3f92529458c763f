/*
 * Cross-field rules. The schemas run the rules that need only one config, so a
 * destination or activation saved on its own is already checked; `resolveActivation`
 * adds the rules that need both. Plain structural types keep this file free of zod.
 */

export type InvitationKind = 'service' | 'product';
type InvitationTypeName = InvitationKind | 'both';

export interface RuleIssue {
  path: (string | number)[];
  message: string;
}

export function includesKind(type: InvitationTypeName, kind: InvitationKind): boolean {
  return type === kind || type === 'both';
}

/** Fixed settings and mapped fields that only make sense for one kind of invitation. */
export const KIND_SPECIFIC_SETTINGS = {
  serviceTemplateId: 'service',
  serviceRedirectUri: 'service',
  productTemplateId: 'product',
  productRedirectUri: 'product',
} as const satisfies Record<string, InvitationKind>;

export const KIND_SPECIFIC_MAPPINGS = {
  serviceReviewTags: 'service',
  servicePreferredSendTime: 'service',
  productSkus: 'product',
  productPreferredSendTime: 'product',
} as const satisfies Record<string, InvitationKind>;

export type KindSpecificSetting = keyof typeof KIND_SPECIFIC_SETTINGS;

export function wrongKindMessage(field: string, kind: InvitationKind, type: InvitationTypeName): string {
  return `${field} applies to ${kind} invitations but invitationType is '${type}'; remove it or change invitationType`;
}

interface DestinationRuleInput {
  invitationType: InvitationTypeName;
  /** Zod's output type for an optional key admits `undefined`; an absent setting and `undefined` mean the same. */
  defaults: { [Setting in KindSpecificSetting]?: string | undefined };
}

export function destinationRuleIssues(destination: DestinationRuleInput): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const [setting, kind] of Object.entries(KIND_SPECIFIC_SETTINGS)) {
    if (destination.defaults[setting as KindSpecificSetting] !== undefined && !includesKind(destination.invitationType, kind)) {
      issues.push({ path: ['defaults', setting], message: wrongKindMessage(setting, kind, destination.invitationType) });
    }
  }
  return issues;
}

interface ActivationRuleInput {
  primaryKey: readonly string[];
  products?: { mode: 'per_row' | 'fixed' } | undefined;
  mapping: { productSkus?: string | undefined };
}

export function activationRuleIssues(activation: ActivationRuleInput): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const seen = new Set<string>();
  for (const column of activation.primaryKey) {
    if (seen.has(column)) issues.push({ path: ['primaryKey'], message: `primaryKey lists column '${column}' more than once` });
    seen.add(column);
  }
  if (activation.products?.mode === 'per_row' && activation.mapping.productSkus === undefined) {
    issues.push({
      path: ['mapping', 'productSkus'],
      message: "products.mode 'per_row' reads the SKUs of each row from a column: map it as mapping.productSkus",
    });
  }
  if (activation.products?.mode === 'fixed' && activation.mapping.productSkus !== undefined) {
    issues.push({
      path: ['mapping', 'productSkus'],
      message: "products.mode 'fixed' sends the configured skus for every row, so mapping.productSkus cannot also be set; remove one, or use mode 'per_row'",
    });
  }
  return issues;
}
