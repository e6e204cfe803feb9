/**
 * The `npm run dev` banner lines that try the mini program capability routes on `app` (the first
 * `miniprogram` app): a phone-number code and a subscription granted in the simulator, then
 * the hub's routes. The two `__sim` lines answer what the next line needs (`{"code"}`).
 */
export function capabilityLines(o: {
  base: string;
  simUrl: string;
  auth: string;
  app: { name: string; appId: string } | undefined;
}): string[] {
  if (o.app === undefined) return [];
  const post = `curl -s -X POST ${o.auth} -H 'content-type: application/json'`;
  const route = `${o.base}/v1/apps/${o.app.name}`;
  const appId = o.app.appId;
  return [
    `  curl -s -X POST ${o.simUrl}/__sim/phone-codes -d '{"appId":"${appId}","purePhoneNumber":"13800138000"}'`,
    `  ${post} ${route}/phone-number -d '{"code":"<the code above>"}'`,
    `  curl -s -X POST ${o.simUrl}/__sim/subscriptions -d '{"appId":"${appId}","openid":"o-demo","templateId":"tpl-demo"}'`,
    `  ${post} ${route}/subscribe-messages -d '{"touser":"o-demo","template_id":"tpl-demo","data":{"thing1":{"value":"hi"}}}'`,
    `  ${post} ${route}/url-link -d '{"path":"pages/index/index"}'`,
    `  ${post} ${route}/wxacode -d '{"type":"limited","path":"pages/index/index"}' -D - -o code.png`,
  ];
}
