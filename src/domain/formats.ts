import { EMAIL_LOCAL_PART_MAX_LENGTH, EMAIL_MAX_LENGTH, URL_MAX_LENGTH } from './limits.ts';

/*
 * Practical, not RFC 5322: quoted local parts, comments and IP-literal domains are legal
 * but never seen in customer data, while the typos this refuses ("a@b", "a@@b.com",
 * "a b@c.com", "a@b..com") are. Unicode letters are allowed for internationalised
 * addresses.
 */
const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;
const TOP_LEVEL_DOMAIN = /^(?:\p{L}{2,63}|xn--[a-z0-9-]{1,59})$/iu;

export function isValidEmailAddress(value: string): boolean {
  if (value.length > EMAIL_MAX_LENGTH) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0) return false;
  const localPart = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (localPart.length > EMAIL_LOCAL_PART_MAX_LENGTH || !LOCAL_PART.test(localPart)) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  const topLevel = labels[labels.length - 1] ?? '';
  return labels.every((label) => DOMAIN_LABEL.test(label)) && TOP_LEVEL_DOMAIN.test(topLevel);
}

/** Redirect targets are opened in the consumer's browser: anything but http(s) is either broken or hostile. */
export function isHttpUrl(value: string): boolean {
  if (value.length > URL_MAX_LENGTH) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Line breaks in a name end up in mail headers; other control characters are always data errors. */
export function hasControlCharacters(value: string): boolean {
  return /\p{Cc}/u.test(value);
}
