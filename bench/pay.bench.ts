import { generateKeyPairSync } from 'node:crypto';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import {
  decryptResource,
  type EncryptedResource,
  encryptResource,
  nonceStr,
  privateKeyOf,
  publicKeyOf,
  signLines,
  verifyLines,
} from '../shared/pay/crypto';
import type { Bench, BenchContext, BenchResult } from './lib';
import { formatOps, interleavedMedians } from './lib';

const API_V3_KEY = Buffer.from('0123456789abcdefghijklmnopqrstuv', 'ascii');
const NOTIFICATIONS = 300;

/**
 * A TRANSACTION.SUCCESS resource of about 700 bytes, the size WeChat Pay sends
 * (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_2_5.shtml).
 */
const transaction = (n: number): string =>
  JSON.stringify({
    mchid: '1900000001',
    appid: 'wxd678efh567hg6787',
    out_trade_no: `wxhub-bench-${String(n).padStart(10, '0')}`,
    transaction_id: `42000000002024080512345${String(n).padStart(5, '0')}`,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'CMC',
    attach: `order=${n};channel=mini-program;campaign=summer-2024`,
    success_time: '2024-08-05T17:33:41+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100 + n, payer_total: 90 + n, currency: 'CNY', payer_currency: 'CNY' },
    scene_info: { device_id: '013467007045764' },
    promotion_detail: [
      {
        coupon_id: '109519',
        name: '单品惠-6',
        scope: 'SINGLE',
        type: 'CASH',
        amount: 10,
        stock_id: '931386',
        wechatpay_contribute: 0,
        merchant_contribute: 10,
        other_contribute: 0,
        currency: 'CNY',
      },
    ],
  });

interface Notification {
  timestamp: string;
  nonce: string;
  signature: string;
  /** The body exactly as the server receives it. */
  body: Buffer;
  outTradeNo: string;
}

interface NotificationBody {
  resource: EncryptedResource;
}

interface Transaction {
  out_trade_no: string;
}

/** Distinct signed notifications with encrypted resources, prepared before any timing. */
function prepare(count: number): { notifications: Notification[]; publicPem: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = privateKeyOf(
    pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const notifications = Array.from({ length: count }, (_, n) => {
    const plain = transaction(n);
    const body = Buffer.from(
      JSON.stringify({
        id: `EV-2024080517334${String(n).padStart(8, '0')}`,
        create_time: '2024-08-05T17:33:42+08:00',
        resource_type: 'encrypt-resource',
        event_type: 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        resource: {
          original_type: 'transaction',
          ...encryptResource(API_V3_KEY, plain, 'transaction'),
        },
      }),
      'utf8',
    );
    const nonce = nonceStr();
    const signature = signLines(privateKey, [timestamp, nonce, body]);
    const outTradeNo = (JSON.parse(plain) as Transaction).out_trade_no;
    return { timestamp, nonce, signature, body, outTradeNo };
  });
  return { notifications, publicPem };
}

/**
 * Verify the raw body + decrypt + parse one payment notification: wxhub's `shared/pay/crypto`
 * against wechatpay-axios-plugin's primitives on the same notifications, both with keys parsed
 * beforehand.
 */
async function payCrypto(ctx: BenchContext): Promise<BenchResult[]> {
  const { notifications, publicPem } = prepare(NOTIFICATIONS);
  const ourKey = publicKeyOf(publicPem);
  const theirKey = Rsa.from(publicPem, 'public');
  const first = notifications[0];
  if (first === undefined) throw new Error('no notifications');
  ctx.log(
    `pay-crypto: ${notifications.length} notifications, body ${first.body.length} bytes, resource ${Buffer.byteLength(transaction(0))} bytes`,
  );

  let ourNext = 0;
  const ourFn = () => {
    const n = notifications[ourNext++ % notifications.length] ?? first;
    if (!verifyLines(ourKey, [n.timestamp, n.nonce, n.body], n.signature)) {
      throw new Error('bad signature');
    }
    const { resource } = JSON.parse(n.body.toString('utf8')) as NotificationBody;
    const tx = JSON.parse(decryptResource(API_V3_KEY, resource)) as Transaction;
    if (tx.out_trade_no !== n.outTradeNo) throw new Error('bad resource');
  };
  let theirNext = 0;
  const theirFn = () => {
    const n = notifications[theirNext++ % notifications.length] ?? first;
    // The package verifies the body as a string (lib/decorator.js: Formatter.response(ts, nonce, data)).
    const text = n.body.toString('utf8');
    if (!Rsa.verify(Formatter.response(n.timestamp, n.nonce, text), n.signature, theirKey)) {
      throw new Error('bad signature');
    }
    const { resource } = JSON.parse(text) as NotificationBody;
    const plain = Aes.AesGcm.decrypt(
      resource.ciphertext,
      API_V3_KEY,
      resource.nonce,
      resource.associated_data,
    );
    const tx = JSON.parse(plain) as Transaction;
    if (tx.out_trade_no !== n.outTradeNo) throw new Error('bad resource');
  };
  // Every prepared notification must pass both sides before anything is timed.
  for (let i = 0; i < notifications.length; i++) {
    ourFn();
    theirFn();
  }

  const { theirs, ours } = await interleavedMedians(ctx, theirFn, ourFn);
  const baseline = { name: 'wechatpay-axios-plugin verify + decrypt', opsPerSec: theirs };
  ctx.log(
    `pay-crypto: wechatpay-axios-plugin ${formatOps(theirs)}/s, wxhub ${formatOps(ours)}/s, ratio ${(ours / theirs).toFixed(2)} (goal >= 1.0)`,
  );
  return [
    {
      bench: 'wechatpay-axios-plugin notify verify + decrypt (baseline)',
      target: 'cpu',
      opsPerSec: theirs,
    },
    { bench: 'wxhub notify verify + decrypt', target: 'cpu', opsPerSec: ours, baseline },
  ];
}

export const payCryptoBench: Bench = { name: 'pay-crypto', run: payCrypto };
