import {
  activationConfigSchema,
  destinationConfigSchema,
  type ActivationConfig,
  type DestinationConfig,
  type FieldMapping,
  type InvitationSettings,
  type InvitationType,
  type ProductSettings,
} from './config.ts';
import { formatConfigPath, toConfigIssues, type ConfigIssue } from './config-issues.ts';
import {
  KIND_SPECIFIC_MAPPINGS,
  KIND_SPECIFIC_SETTINGS,
  activationRuleIssues,
  destinationRuleIssues,
  includesKind,
  wrongKindMessage,
  type RuleIssue,
} from './config-rules.ts';

export type { ConfigIssue } from './config-issues.ts';

/** Everything needed to turn one source row into an invitation, with precedence already applied. */
export interface ResolvedActivation {
  activationId: string;
  destinationId: string;
  businessUnitId: string;
  invitationType: InvitationType;
  /** Values applying to every row: the activation target overrides the destination defaults. */
  settings: InvitationSettings;
  /** Source column per invitation field. */
  mapping: FieldMapping;
  products?: ProductSettings;
}

export type ResolveResult = { ok: true; value: ResolvedActivation } | { ok: false; issues: ConfigIssue[] };

export type ParseConfigsResult =
  | { ok: true; destination: DestinationConfig; activation: ActivationConfig; resolved: ResolvedActivation }
  | { ok: false; issues: ConfigIssue[] };

type SettingKey = keyof InvitationSettings;

const SETTING_KEYS = [
  'serviceTemplateId',
  'serviceRedirectUri',
  'productTemplateId',
  'productRedirectUri',
  'senderName',
  'senderEmail',
  'replyTo',
] as const satisfies readonly SettingKey[];

/** Settings that can come either from configuration (every row) or from a column (per row), never both. */
const MAPPABLE_SETTINGS = ['senderName', 'senderEmail', 'replyTo'] as const satisfies readonly (SettingKey & keyof FieldMapping)[];

function kindOf<Table extends Record<string, 'service' | 'product'>>(table: Table, key: string): 'service' | 'product' | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * Applies precedence (activation target > destination defaults > Trustpilot's account
 * defaults) and checks the rules that need both configs. Destination defaults for a
 * kind of invitation the activation does not send are ignored, because one destination
 * serves activations of different types; the same values set on the activation itself
 * are refused.
 */
export function resolveActivation(destination: DestinationConfig, activation: ActivationConfig): ResolveResult {
  const issues: ConfigIssue[] = [
    ...prefixed('destination', destinationRuleIssues(destination)),
    ...prefixed('activation', activationRuleIssues(activation)),
  ];
  if (activation.destinationId !== destination.id) {
    issues.push({
      path: 'activation.destinationId',
      message: `activation refers to destination '${activation.destinationId}' but was given destination '${destination.id}'`,
    });
  }

  const invitationType = activation.target.invitationType ?? destination.invitationType;
  const settings: InvitationSettings = {};
  const settingOrigin = new Map<SettingKey, string>();
  for (const key of SETTING_KEYS) {
    const kind = kindOf(KIND_SPECIFIC_SETTINGS, key);
    const applies = kind === undefined || includesKind(invitationType, kind);
    const fromActivation = activation.target[key];
    const fromDestination = destination.defaults[key];
    if (fromActivation !== undefined) {
      if (applies) {
        settings[key] = fromActivation;
        settingOrigin.set(key, `activation.target.${key}`);
      } else {
        issues.push({ path: `activation.target.${key}`, message: wrongKindMessage(key, kind ?? 'service', invitationType) });
      }
    } else if (fromDestination !== undefined && applies) {
      settings[key] = fromDestination;
      settingOrigin.set(key, `destination.defaults.${key}`);
    }
  }

  for (const key of MAPPABLE_SETTINGS) {
    const origin = settingOrigin.get(key);
    if (origin !== undefined && activation.mapping[key] !== undefined) {
      const level = origin.startsWith('activation') ? 'activation' : 'destination';
      issues.push({
        path: `activation.mapping.${key}`,
        message: `${key} is set for every row at the ${level} level (${origin}) and cannot also be mapped; remove one`,
      });
    }
  }

  for (const field of Object.keys(activation.mapping)) {
    const kind = kindOf(KIND_SPECIFIC_MAPPINGS, field);
    if (kind !== undefined && !includesKind(invitationType, kind)) {
      issues.push({ path: `activation.mapping.${field}`, message: wrongKindMessage(`mapping.${field}`, kind, invitationType) });
    }
  }

  const sendsProducts = includesKind(invitationType, 'product');
  if (sendsProducts && activation.products === undefined) {
    issues.push({
      path: 'activation.products',
      message: `invitationType '${invitationType}' needs products: { mode: 'per_row' } with mapping.productSkus, or { mode: 'fixed', skus: [...] }`,
    });
  }
  if (!sendsProducts && activation.products !== undefined) {
    issues.push({ path: 'activation.products', message: wrongKindMessage('products', 'product', invitationType) });
  }

  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      activationId: activation.id,
      destinationId: destination.id,
      businessUnitId: activation.target.businessUnitId ?? destination.businessUnitId,
      invitationType,
      settings,
      mapping: { ...activation.mapping },
      ...(activation.products !== undefined ? { products: activation.products } : {}),
    },
  };
}

/**
 * Validates both configs and resolves them, reporting every problem found at once.
 * Cross-config rules can only run once both configs have the right shape, so they are
 * reported after the shape problems are fixed.
 */
export function parseConfigs(destinationInput: unknown, activationInput: unknown): ParseConfigsResult {
  const destination = destinationConfigSchema.safeParse(destinationInput);
  const activation = activationConfigSchema.safeParse(activationInput);
  if (!destination.success || !activation.success) {
    return {
      ok: false,
      issues: [
        ...(destination.success ? [] : toConfigIssues('destination', destination.error)),
        ...(activation.success ? [] : toConfigIssues('activation', activation.error)),
      ],
    };
  }
  const resolved = resolveActivation(destination.data, activation.data);
  if (!resolved.ok) return resolved;
  return { ok: true, destination: destination.data, activation: activation.data, resolved: resolved.value };
}

function prefixed(prefix: string, issues: RuleIssue[]): ConfigIssue[] {
  return issues.map((issue) => ({ path: formatConfigPath(prefix, issue.path), message: issue.message }));
}
