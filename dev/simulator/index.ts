export type { Simulator, SimulatorOptions } from './app';
export { callerIp, createSimulator, DEFAULT_EGRESS_IP } from './app';
export type { SimClock } from './clock';
export { createLiveSimClock, createSimClock } from './clock';
export { simAppConfigSchema } from './control';
export { defaultErrmsg, ipNotWhitelistedMessage, SIM_MARK_HEADER } from './errors';
export type { CounterSnapshot, SimFault } from './faults';
export { isPayPath, simFaultSchema } from './faults';
export type { SessionGrant, TicketGrant, TicketType } from './grants';
export { LOGIN_CODE_TTL_MS } from './grants';
export { isTokenShaped, TOKEN_PATTERN } from './ids';
export type { PaySimulator, SimMerchantConfig, SimPay } from './pay';
export { createPaySimulator, simMerchantSchema } from './pay';
export { PAY_TIMESTAMP_TOLERANCE_S, SIGN_ERROR_MESSAGES } from './pay-auth';
export type { PayFailure, RefundStatus, TradeState } from './pay-book';
export type { PayTamper } from './pay-crypto';
export { PAY_TAMPERS, rfc3339Cst } from './pay-crypto';
export type { PayKeyMode, PayKeysExport } from './pay-keys';
export { PLATFORM_CERT_VALIDITY_MS } from './pay-keys';
export type { PayEventType, PayNotification, PayNotificationOptions } from './pay-notify';
export {
  PAY_EVENT_TYPES,
  payNotificationSchema,
  SYNTHETIC_APPID,
  SYNTHETIC_OPENID,
} from './pay-notify';
export type { PayTransaction } from './pay-views';
export { isValidScene, wxacodeBytes } from './qrcode';
export type { RunningSimulator, StartSimulatorOptions } from './server';
export { startSimulator } from './server';
export type { SimAppConfig, TokenGrant, TokenKind } from './state';
export {
  FORCE_DAILY_LIMIT,
  FORCE_SPACING_MS,
  ROTATION_WINDOW_MS,
  TOKEN_TTL_MS,
} from './state';
export { CALLBACK_IPS } from './wechat';
export type { SelfSignedCertificate, SelfSignedCertificateOptions } from './x509';
export { createSelfSignedCertificate, newCertificateSerial, SIM_CA_COMMON_NAME } from './x509';
