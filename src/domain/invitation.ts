import type { FieldMapping, MappedField } from './config.ts';
import type { InvitationRequest, ProductReviewInvitation, ServiceReviewInvitation } from './invitation-request.ts';
import type { ResolvedActivation } from './resolve.ts';
import { readSendTime, readText, readTextList, type CellResult } from './cell-values.ts';
import { hasControlCharacters, isValidEmailAddress } from './formats.ts';
import {
  CONSUMER_NAME_MAX_LENGTH,
  EMAIL_MAX_LENGTH,
  LOCATION_ID_MAX_LENGTH,
  REFERENCE_NUMBER_MAX_LENGTH,
  SENDER_NAME_MAX_LENGTH,
  SKU_MAX_LENGTH,
  SKUS_MAX_COUNT,
  TAG_MAX_LENGTH,
  TAGS_MAX_COUNT,
} from './limits.ts';
import { describeLocaleProblem } from './locales.ts';

/**
 * Why one row cannot become an invitation. `field` is the invitation field as named in
 * the mapping (consumerEmail, productSkus, servicePreferredSendTime...); `reason` never
 * contains the cell value, because cells hold personal data.
 */
export interface RowIssue {
  field: string;
  reason: string;
}

export type BuildResult = { ok: true; payload: InvitationRequest } | { ok: false; issues: RowIssue[] };

/** Marks a mapped column absent from the row, already reported, so no second "missing" issue follows. */
const MISSING_COLUMN = Symbol('missing column');

/** Far longer than any locale code; only stops a wrongly mapped column early. */
const LOCALE_MAX_LENGTH = 35;

const FULL_PRODUCT_REFUSED = 'full product objects are not supported; provide SKUs only';

/**
 * Builds the Trustpilot request body for one source row, or lists every problem of the
 * row. The sub-object of each kind the activation sends is always present, even empty
 * (`serviceReviewInvitation: {}`): its presence is what tells Trustpilot to send that
 * kind of invitation, with the account's default template.
 */
export function buildInvitation(row: Record<string, unknown>, resolved: ResolvedActivation): BuildResult {
  const cells = new RowCells(row, resolved.mapping);
  const { settings } = resolved;

  const consumerEmail = cells.email('consumerEmail', { required: true });
  const consumerName = cells.name('consumerName', CONSUMER_NAME_MAX_LENGTH, { required: true });
  const referenceNumber = cells.text('referenceNumber', REFERENCE_NUMBER_MAX_LENGTH, { required: true });
  const locale = cells.locale('locale');
  const senderEmail = settings.senderEmail ?? cells.email('senderEmail', { required: false });
  const senderName = settings.senderName ?? cells.name('senderName', SENDER_NAME_MAX_LENGTH, { required: false });
  const replyTo = settings.replyTo ?? cells.email('replyTo', { required: false });
  const locationId = cells.text('locationId', LOCATION_ID_MAX_LENGTH, { required: false });

  const sendsService = resolved.invitationType !== 'product';
  const sendsProducts = resolved.invitationType !== 'service';
  const serviceSendTime = sendsService ? cells.sendTime('servicePreferredSendTime') : undefined;
  const productSendTime = sendsProducts ? cells.sendTime('productPreferredSendTime') : undefined;
  if (serviceSendTime !== undefined && productSendTime !== undefined && serviceSendTime >= productSendTime) {
    cells.report('servicePreferredSendTime', 'must be earlier than productPreferredSendTime');
  }
  const tags = sendsService ? cells.tags() : undefined;
  const productSkus = sendsProducts ? skusFor(cells, resolved) : undefined;

  if (cells.issues.length > 0) return { ok: false, issues: cells.issues };

  const payload: InvitationRequest = {
    consumerEmail: consumerEmail ?? '',
    consumerName: consumerName ?? '',
    referenceNumber: referenceNumber ?? '',
    ...definedOnly({ locale, senderEmail, senderName, replyTo, locationId }),
    type: 'email',
  };
  if (sendsService) {
    const service: ServiceReviewInvitation = definedOnly({
      templateId: settings.serviceTemplateId,
      preferredSendTime: serviceSendTime,
      redirectUri: settings.serviceRedirectUri,
      tags,
    });
    payload.serviceReviewInvitation = service;
  }
  if (sendsProducts) {
    const product: ProductReviewInvitation = definedOnly({
      templateId: settings.productTemplateId,
      preferredSendTime: productSendTime,
      redirectUri: settings.productRedirectUri,
      productSkus,
    });
    payload.productReviewInvitation = product;
  }
  return { ok: true, payload };
}

/** One line for logs, the ledger and the CLI, e.g. "consumerEmail: not a valid email address; locale: ...". */
export function describeRowIssues(issues: readonly RowIssue[]): string {
  return issues.map((issue) => `${issue.field}: ${issue.reason}`).join('; ');
}

function skusFor(cells: RowCells, resolved: ResolvedActivation): string[] | undefined {
  const products = resolved.products;
  if (products?.mode === 'fixed') return [...products.skus];
  if (products === undefined || resolved.mapping.productSkus === undefined) {
    cells.report('productSkus', 'no product SKU source configured for a product invitation');
    return undefined;
  }
  const skus = cells.list('productSkus', { acceptNumbers: true, objectReason: FULL_PRODUCT_REFUSED });
  if (skus === undefined) {
    if (!cells.hasIssue('productSkus')) cells.report('productSkus', 'no product SKU for a product invitation');
    return undefined;
  }
  if (skus.length > SKUS_MAX_COUNT) cells.report('productSkus', `has ${skus.length} SKUs; at most ${SKUS_MAX_COUNT} are allowed`);
  const tooLong = skus.findIndex((sku) => sku.length > SKU_MAX_LENGTH);
  if (tooLong !== -1) cells.report('productSkus', `SKU ${tooLong + 1} is longer than ${SKU_MAX_LENGTH} characters`);
  return skus;
}

/** Reads mapped cells of one row and collects every problem instead of stopping at the first. */
class RowCells {
  readonly issues: RowIssue[] = [];

  constructor(
    private readonly row: Record<string, unknown>,
    private readonly mapping: FieldMapping,
  ) {}

  report(field: string, reason: string): void {
    this.issues.push({ field, reason });
  }

  hasIssue(field: string): boolean {
    return this.issues.some((issue) => issue.field === field);
  }

  text(field: MappedField, maxLength: number, { required }: { required: boolean }): string | undefined {
    const raw = this.raw(field);
    if (raw === MISSING_COLUMN) return undefined;
    const value = this.accept(field, readText(raw));
    if (value === undefined) {
      if (required && !this.hasIssue(field)) {
        this.report(field, raw === null || raw === undefined ? 'is required but missing' : 'is required but empty');
      }
      return undefined;
    }
    if (value.length > maxLength) {
      this.report(field, `is longer than ${maxLength} characters`);
      return undefined;
    }
    return value;
  }

  name(field: MappedField, maxLength: number, options: { required: boolean }): string | undefined {
    const value = this.text(field, maxLength, options);
    if (value !== undefined && hasControlCharacters(value)) {
      this.report(field, 'contains line breaks or control characters');
      return undefined;
    }
    return value;
  }

  email(field: MappedField, options: { required: boolean }): string | undefined {
    const value = this.text(field, EMAIL_MAX_LENGTH, options);
    if (value === undefined) return undefined;
    if (!isValidEmailAddress(value)) {
      this.report(field, 'not a valid email address');
      return undefined;
    }
    return value;
  }

  locale(field: MappedField): string | undefined {
    const value = this.text(field, LOCALE_MAX_LENGTH, { required: false });
    if (value === undefined) return undefined;
    const problem = describeLocaleProblem(value);
    if (problem !== undefined) {
      this.report(field, problem);
      return undefined;
    }
    return value;
  }

  sendTime(field: MappedField): string | undefined {
    const raw = this.raw(field);
    return raw === MISSING_COLUMN ? undefined : this.accept(field, readSendTime(raw));
  }

  tags(): string[] | undefined {
    const tags = this.list('serviceReviewTags', { acceptNumbers: false, objectReason: 'expected a list of tags, got an object' });
    if (tags === undefined) return undefined;
    if (tags.length > TAGS_MAX_COUNT) this.report('serviceReviewTags', `has ${tags.length} tags; at most ${TAGS_MAX_COUNT} are allowed`);
    const tooLong = tags.findIndex((tag) => tag.length > TAG_MAX_LENGTH);
    if (tooLong !== -1) this.report('serviceReviewTags', `tag ${tooLong + 1} is longer than ${TAG_MAX_LENGTH} characters`);
    return tags;
  }

  list(field: MappedField, options: Parameters<typeof readTextList>[1]): string[] | undefined {
    const raw = this.raw(field);
    return raw === MISSING_COLUMN ? undefined : this.accept(field, readTextList(raw, options));
  }

  /** The cell for a mapped field; undefined when the field is not mapped. */
  private raw(field: MappedField): unknown {
    const column = this.mapping[field];
    if (column === undefined) return undefined;
    if (!Object.hasOwn(this.row, column)) {
      // A column missing from the row is a mapping mistake, not an empty value: say so.
      this.report(field, `mapped column '${column}' is not in the row`);
      return MISSING_COLUMN;
    }
    return this.row[column];
  }

  private accept<Value>(field: string, result: CellResult<Value>): Value | undefined {
    if (result.ok) return result.value;
    this.report(field, result.reason);
    return undefined;
  }

}

/** Drops undefined properties so the JSON body carries only what was provided. */
function definedOnly<Shape extends Record<string, unknown>>(values: Shape): { [Key in keyof Shape]?: Exclude<Shape[Key], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [Key in keyof Shape]?: Exclude<Shape[Key], undefined>;
  };
}
