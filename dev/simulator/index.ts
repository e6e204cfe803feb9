export type { Simulator, SimulatorOptions } from './app';
export { callerIp, createSimulator, DEFAULT_EGRESS_IP } from './app';
export type { SimClock } from './clock';
export { createSimClock } from './clock';
export { simAppConfigSchema } from './control';
export { defaultErrmsg, ipNotWhitelistedMessage } from './errors';
export type { CounterSnapshot, SimFault } from './faults';
export { simFaultSchema } from './faults';
export type { SessionGrant, TicketGrant, TicketType } from './grants';
export { LOGIN_CODE_TTL_MS } from './grants';
export { isTokenShaped, TOKEN_PATTERN } from './ids';
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
