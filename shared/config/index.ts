export type {
  AppConfig,
  AppKind,
  AppsFile,
  ForwardRule,
  MerchantConfig,
  MessageMode,
  TokenMode,
} from './apps';
export {
  APP_KINDS,
  AppsFileError,
  MESSAGE_MODES,
  messageModeOf,
  NAME_PATTERN,
  parseAppsFile,
  TOKEN_MODES,
} from './apps';
export type { AppsSource, Config, DatabaseConfig } from './config';
export { ConfigError, parseConfig } from './config';
export type { LogLevel } from './env';
