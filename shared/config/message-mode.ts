// No imports: the store's codec reads this in every dialect file, where the configuration checks
// (apps.ts) would be a second copy to load at each cold start.

/**
 * How WeChat sends an app's pushes (its "message encryption mode" setting): `plain` text,
 * `compatible` (both), or `safe` (encrypted only). A `safe` app refuses a plaintext push.
 */
export const MESSAGE_MODES = ['plain', 'compatible', 'safe'] as const;
export type MessageMode = (typeof MESSAGE_MODES)[number];

/** The mode an app runs in: as configured, else `safe` when it has an AES key, else `plain`. */
export function messageModeOf(app: {
  messageMode?: MessageMode | undefined;
  encodingAesKey?: string | undefined;
}): MessageMode {
  return app.messageMode ?? (app.encodingAesKey === undefined ? 'plain' : 'safe');
}
