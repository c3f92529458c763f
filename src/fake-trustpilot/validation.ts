/**
 * Validation of the email-invitation body, as strict as the rules Trustpilot documents and
 * as lenient as the real API elsewhere: unknown fields are accepted and ignored, absent
 * optional fields fall back to the business's defaults.
 */
import type { InvitationRequest } from '../domain/invitation-request.ts';
import { ProblemList, isAbsent, type FieldProblem } from './field-checks.ts';
import { isPlainObject } from './http-io.ts';
import { parsePreferredSendTime } from './send-time.ts';

export interface InvitationValidationContext {
  /** Known SKUs; null = the catalogue is not modelled and any SKU is accepted. */
  productCatalogue: ReadonlySet<string> | null;
}

export type InvitationValidation = { ok: true; invitation: InvitationRequest } | { ok: false; problems: FieldProblem[] };

export function validateInvitationRequest(body: unknown, context: InvitationValidationContext): InvitationValidation {
  const problems = new ProblemList();
  if (!isPlainObject(body)) {
    problems.add('body', 'must be a JSON object');
    return { ok: false, problems: problems.problems };
  }

  problems.requiredEmail(body, 'consumerEmail');
  problems.requiredString(body, 'consumerName');
  problems.requiredString(body, 'referenceNumber');
  problems.optionalLocale(body, 'locale');
  problems.optionalEmail(body, 'senderEmail');
  problems.optionalString(body, 'senderName');
  problems.optionalEmail(body, 'replyTo');
  problems.optionalString(body, 'locationId');
  if (!isAbsent(body.type) && body.type !== 'email') problems.add('type', "must be 'email'");

  const service = problems.optionalObject(body, 'serviceReviewInvitation');
  const serviceSendTime = service === undefined ? undefined : checkReviewInvitation(problems, service, 'serviceReviewInvitation');
  if (service !== undefined) problems.optionalStringArray(service, 'tags', 'serviceReviewInvitation.tags');

  const product = problems.optionalObject(body, 'productReviewInvitation');
  const productSendTime = product === undefined ? undefined : checkReviewInvitation(problems, product, 'productReviewInvitation');
  if (product !== undefined) checkProducts(problems, product, context.productCatalogue);

  if (serviceSendTime !== undefined && productSendTime !== undefined && serviceSendTime >= productSendTime) {
    problems.add('serviceReviewInvitation.preferredSendTime', 'must be earlier than productReviewInvitation.preferredSendTime');
  }

  return problems.isEmpty ? { ok: true, invitation: body as unknown as InvitationRequest } : { ok: false, problems: problems.problems };
}

/** Checks the fields both review invitations share; returns the parsed send time, if any. */
function checkReviewInvitation(problems: ProblemList, invitation: Record<string, unknown>, prefix: string): number | undefined {
  problems.optionalString(invitation, 'templateId', `${prefix}.templateId`);
  problems.optionalHttpUrl(invitation, 'redirectUri', `${prefix}.redirectUri`);
  const sendTime = problems.optionalString(invitation, 'preferredSendTime', `${prefix}.preferredSendTime`);
  if (sendTime === undefined) return undefined;
  const parsed = parsePreferredSendTime(sendTime);
  if (parsed.ok) return parsed.epochMs;
  problems.add(`${prefix}.preferredSendTime`, parsed.message);
  return undefined;
}

function checkProducts(problems: ProblemList, product: Record<string, unknown>, catalogue: ReadonlySet<string> | null): void {
  const hasProducts = !isAbsent(product.products);
  const hasSkus = !isAbsent(product.productSkus);
  if (hasProducts && hasSkus) {
    problems.add('productReviewInvitation', 'products and productSkus are mutually exclusive');
    return;
  }
  if (!hasProducts && !hasSkus) {
    problems.add('productReviewInvitation', 'either products or productSkus is required');
    return;
  }
  if (hasProducts) {
    // Full product objects are accepted without a catalogue, as at Trustpilot; their shape is not modelled.
    const products = product.products;
    if (!Array.isArray(products) || products.length === 0 || !products.every(isPlainObject)) {
      problems.add('productReviewInvitation.products', 'must be a non-empty array of product objects');
    }
    return;
  }
  const skus = problems.optionalStringArray(product, 'productSkus', 'productReviewInvitation.productSkus');
  if (skus === undefined) return;
  if (skus.length === 0) {
    problems.add('productReviewInvitation.productSkus', 'must contain at least one SKU');
    return;
  }
  skus.forEach((sku, index) => {
    const field = `productReviewInvitation.productSkus[${index}]`;
    if (sku.trim() === '') problems.add(field, 'must not be empty');
    else if (catalogue !== null && !catalogue.has(sku)) problems.add(field, 'is not in the product catalogue');
  });
}
