/**
 * The JSON body of `POST /v1/private/business-units/{businessUnitId}/email-invitations`,
 * as documented by Trustpilot. Shared by the payload builder, the HTTP client and the
 * fake server so that all three agree on one shape.
 */
export interface ServiceReviewInvitation {
  templateId?: string;
  preferredSendTime?: string;
  redirectUri?: string;
  tags?: string[];
}

export interface ProductReviewInvitation {
  templateId?: string;
  preferredSendTime?: string;
  redirectUri?: string;
  /** SKUs of products already in the business's catalogue. Full product objects are out of scope. */
  productSkus?: string[];
}

export interface InvitationRequest {
  consumerEmail: string;
  consumerName: string;
  referenceNumber: string;
  locale?: string;
  senderEmail?: string;
  senderName?: string;
  replyTo?: string;
  locationId?: string;
  type?: 'email';
  serviceReviewInvitation?: ServiceReviewInvitation;
  productReviewInvitation?: ProductReviewInvitation;
}
