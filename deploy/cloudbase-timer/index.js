// @ts-check

/**
 * CloudBase cloud function (entry `index.main`), on the timer in config.json (every minute). Each
 * run asks the wxhub CloudRun service for one refresh pass, `POST /v1/refresh`, through
 * `callContainer` of @cloudbase/node-sdk
 * (https://docs.cloudbase.net/api-reference/server/node-sdk/cloudrun). The service's in-process
 * schedule runs only while an instance is up. This timer is what keeps the refresh going when the
 * service may scale to zero (minNum 0).
 *
 * Environment of this function:
 *   WXHUB_CLOUDRUN_SERVICE    name of the wxhub CloudRun service (required)
 *   WXHUB_CLOUDRUN_ENV        environment id of the service (default: this function's environment)
 *   WXHUB_REFRESH_TIMEOUT_MS  how long to wait for the pass, default 50000. Keep the function's own
 *                             timeout above it.
 *
 * Authentication: the SDK signs each call with its own `Authorization` header and overwrites
 * any the caller passes (node-sdk 3.18.3 dist/utils/tcbopenapirequester.js). A wxhub Bearer key
 * therefore cannot travel with the call. The call carries `x-wx-source` instead, which wxhub
 * counts as internal when the service runs with WXHUB_TRUST_WX_SOURCE=1 (the CloudRun image
 * does).
 */

const REFRESH_PATH = '/v1/refresh';
const SOURCE_HEADER = 'x-wx-source';
const SOURCE = 'cloudbase-timer';
const DEFAULT_TIMEOUT_MS = 50_000;

/**
 * @typedef {object} ContainerCall
 * @property {string} name
 * @property {'POST'} method
 * @property {string} path
 * @property {Record<string, string>} header
 * @property {Record<string, never>} data
 */

/**
 * @typedef {object} ContainerAnswer
 * @property {string} [requestId]
 * @property {number} statusCode
 * @property {unknown} [data]
 */

/**
 * What this function uses of a CloudBase app (`tcb.init(…)`); tests pass a fake.
 * @typedef {object} ContainerCaller
 * @property {(call: ContainerCall, opts: { timeout: number }) => Promise<ContainerAnswer>} callContainer
 */

/**
 * The part of @cloudbase/node-sdk 3.x this function uses
 * (https://docs.cloudbase.net/api-reference/server/node-sdk/initialization).
 * @typedef {object} CloudbaseSdk
 * @property {(config: { env?: string | symbol }) => ContainerCaller} init
 * @property {symbol} SYMBOL_CURRENT_ENV
 */

/**
 * @typedef {object} FailedCredential
 * @property {string} [app]
 * @property {string} [credential]
 * @property {string} [error]
 */

/**
 * @typedef {object} RefreshSummary
 * @property {number | null} checked
 * @property {number | null} refreshed
 * @property {FailedCredential[]} failed
 */

/**
 * @typedef {object} Settings
 * @property {string} service
 * @property {string | undefined} envId
 * @property {number} timeoutMs
 */

/**
 * @typedef {object} HandlerDeps
 * @property {Record<string, string | undefined>} [env] default `process.env`
 * @property {(envId: string | undefined) => ContainerCaller} [init] default `tcb.init`
 * @property {Pick<Console, 'log' | 'warn'>} [log] default `console`
 */

/**
 * Reads this function's environment; throws naming the bad variable.
 * @param {Record<string, string | undefined>} env
 * @returns {Settings}
 */
function readSettings(env) {
  const service = (env.WXHUB_CLOUDRUN_SERVICE ?? '').trim();
  if (service === '') {
    throw new Error('WXHUB_CLOUDRUN_SERVICE: set it to the name of the wxhub CloudRun service');
  }
  const rawTimeout = (env.WXHUB_REFRESH_TIMEOUT_MS ?? '').trim();
  const timeoutMs = rawTimeout === '' ? DEFAULT_TIMEOUT_MS : Number(rawTimeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1_000 || timeoutMs > 900_000) {
    throw new Error('WXHUB_REFRESH_TIMEOUT_MS: must be whole milliseconds from 1000 to 900000');
  }
  const envId = (env.WXHUB_CLOUDRUN_ENV ?? '').trim();
  return { service, envId: envId === '' ? undefined : envId, timeoutMs };
}

/**
 * The real CloudBase app. In node-sdk 3.x, `SYMBOL_CURRENT_ENV` is this function's environment.
 * @param {string | undefined} envId
 * @returns {ContainerCaller}
 */
function initCloudbase(envId) {
  // The SDK is installed in the cloud from this folder's package.json, not by the repository's
  // npm ci: its name is a variable so that the type check does not look for it, and its shape, as
  // far as this file uses it, is declared above (CloudbaseSdk).
  const sdk = '@cloudbase/node-sdk';
  const tcb = /** @type {CloudbaseSdk} */ (require(sdk));
  return tcb.init({ env: envId ?? tcb.SYMBOL_CURRENT_ENV });
}

/**
 * @param {unknown} value
 * @returns {Record<string, unknown>}
 */
function record(value) {
  return typeof value === 'object' && value !== null
    ? /** @type {Record<string, unknown>} */ (value)
    : {};
}

/**
 * @param {unknown} data
 * @returns {RefreshSummary}
 */
function summaryOf(data) {
  const d = record(data);
  const count = (/** @type {unknown} */ v) => (typeof v === 'number' ? v : null);
  const failed = Array.isArray(d.failed)
    ? d.failed.map((f) => {
        const r = record(f);
        /** @type {FailedCredential} */
        const out = {};
        if (typeof r.app === 'string') out.app = r.app;
        if (typeof r.credential === 'string') out.credential = r.credential;
        if (typeof r.error === 'string') out.error = r.error;
        return out;
      })
    : [];
  return { checked: count(d.checked), refreshed: count(d.refreshed), failed };
}

/**
 * wxhub's error code from its `{"error": {"code"}}` envelope, for the message.
 * @param {unknown} data
 * @returns {string}
 */
function errorCodeOf(data) {
  const code = record(record(data).error).code;
  return typeof code === 'string' ? ` ${code}` : '';
}

/**
 * @param {unknown} err
 * @returns {string}
 */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Builds the function's entry. Settings are read on every run, so a fixed variable takes effect
 * without a redeploy; the CloudBase app is created once per instance.
 * @param {HandlerDeps} [deps]
 * @returns {(event?: unknown) => Promise<RefreshSummary>}
 */
function createHandler(deps = {}) {
  const env = deps.env ?? process.env;
  const init = deps.init ?? initCloudbase;
  const log = deps.log ?? console;
  /** @type {Map<string, ContainerCaller>} */
  const apps = new Map();

  return async function main(event) {
    const s = readSettings(env);
    const key = s.envId ?? '';
    const app = apps.get(key) ?? init(s.envId);
    apps.set(key, app);
    const what = `POST ${REFRESH_PATH} on CloudRun service "${s.service}"`;

    /** @type {ContainerAnswer} */
    let answer;
    try {
      answer = await app.callContainer(
        {
          name: s.service,
          method: 'POST',
          path: REFRESH_PATH,
          header: { [SOURCE_HEADER]: SOURCE },
          data: {},
        },
        { timeout: s.timeoutMs },
      );
    } catch (err) {
      throw new Error(`${what} failed: ${messageOf(err)}`, { cause: err });
    }
    if (answer.statusCode < 200 || answer.statusCode > 299) {
      const hint =
        answer.statusCode === 401
          ? ': the call was not trusted; run the service with WXHUB_TRUST_WX_SOURCE=1'
          : '';
      throw new Error(
        `${what} answered ${answer.statusCode}${errorCodeOf(answer.data)}${hint}` +
          ` (request ${answer.requestId ?? 'unknown'})`,
      );
    }

    const summary = summaryOf(answer.data);
    const trigger = record(event).TriggerName;
    log.log(
      JSON.stringify({
        msg: 'refresh pass',
        trigger: typeof trigger === 'string' ? trigger : null,
        service: s.service,
        checked: summary.checked,
        refreshed: summary.refreshed,
        failed: summary.failed.length,
      }),
    );
    if (summary.failed.length > 0) {
      log.warn(JSON.stringify({ msg: 'credentials not refreshed', failed: summary.failed }));
    }
    return summary;
  };
}

module.exports = { createHandler, readSettings, REFRESH_PATH, main: createHandler() };
