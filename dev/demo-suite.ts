import type { AppConfig, AppsFile } from '../shared/config';
import type { RunningSimulator } from './simulator';
import type { SimSuiteConfig } from './simulator/wecom-suite';

/** What the simulator knows of suite `app`, whose hub answers at `hubUrl`. */
export function simSuiteOf(app: AppConfig, hubUrl: string): SimSuiteConfig {
  return {
    suiteId: app.appId,
    suiteSecret: app.appSecret ?? '',
    token: app.token ?? '',
    encodingAesKey: app.encodingAesKey ?? '',
    providerCorpId: app.providerCorpId ?? '',
    commandUrl: `${hubUrl}/wx/${app.name}/suite/command`,
  };
}

/** The corp that installs the demo suite (example apps file only). */
export const DEMO_CORP = 'wwd0e0d0000000corp';

/**
 * The simulator plays WeCom for every `wecom-suite` of the apps file: it pushes the suite ticket
 * to the hub's command URL now (and every 10 minutes), and with the example file installs the
 * demo suite in the demo corp through `create_auth`. Returns what went wrong, if anything.
 */
export async function startDemoSuites(
  file: AppsFile,
  sim: RunningSimulator,
  hubUrl: string,
  corps: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const app of file.apps) {
    if (app.kind !== 'wecom-suite') continue;
    try {
      sim.sim.wecomSuites.register(simSuiteOf(app, hubUrl));
      const ticket = await sim.sim.wecomSuites.pushTicket(app.appId);
      if (ticket.body !== 'success') {
        problems.push(`${app.name}: the suite ticket push was answered ${ticket.status}`);
      }
      for (const corp of corps) {
        const r = await sim.sim.wecomSuites.createAuth(app.appId, corp, { corpName: 'Demo Corp' });
        if (r.answers[0]?.body !== 'success') {
          problems.push(
            `${app.name}: create_auth for ${corp} was answered ${r.answers[0]?.status}`,
          );
        }
      }
    } catch (err) {
      problems.push(`${app.name}: ${err instanceof Error ? err.message : 'push failed'}`);
    }
  }
  return problems;
}

/** The curl lines of the demo suite. */
export function suiteLines(
  base: string,
  simUrl: string,
  auth: string,
  file: AppsFile,
  corps: readonly string[],
): string[] {
  const suite = file.apps.find((a) => a.kind === 'wecom-suite');
  if (suite === undefined) return [];
  const v1 = `${base}/v1/suites/${suite.name}`;
  return [
    `  curl -s ${auth} ${v1}/token`,
    `  curl -s ${auth} '${v1}/install-url?redirect=http://127.0.0.1:3002/installed&state=demo'`,
    `  curl -s ${auth} ${v1}/corps`,
    ...corps
      .slice(0, 1)
      .flatMap((corp) => [
        `  curl -s ${auth} ${v1}/corps/${corp}/token`,
        `  curl -s ${auth} ${v1}/corps/${corp}/proxy/cgi-bin/department/simplelist`,
      ]),
    `  curl -s -X POST ${simUrl}/__sim/wecom-suites/ticket -d '{"suiteId":"${suite.appId}"}'`,
  ];
}
