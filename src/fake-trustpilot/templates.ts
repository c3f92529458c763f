/**
 * The fixed templates every known business unit has. Trustpilot template ids are 24-hex
 * object ids; the `type` values are this fake's choice (the public record does not list them).
 */
export interface InvitationTemplate {
  id: string;
  name: string;
  isDefaultTemplate: boolean;
  locale: string;
  type: string;
}

export const FAKE_TEMPLATES: readonly InvitationTemplate[] = [
  { id: '5a1b2c3d4e5f60718293a4b5', name: 'Default service review invitation', isDefaultTemplate: true, locale: 'en-US', type: 'ServiceReview' },
  { id: '5a1b2c3d4e5f60718293a4b6', name: 'Service review invitation (Danish)', isDefaultTemplate: false, locale: 'da-DK', type: 'ServiceReview' },
  { id: '5a1b2c3d4e5f60718293a4b7', name: 'Default product review invitation', isDefaultTemplate: true, locale: 'en-US', type: 'ProductReview' },
  { id: '5a1b2c3d4e5f60718293a4b8', name: 'Service and product review invitation', isDefaultTemplate: false, locale: 'en-GB', type: 'ServiceAndProductReview' },
];

export const TEMPLATES_RESPONSE_BODY = JSON.stringify({ templates: FAKE_TEMPLATES });
