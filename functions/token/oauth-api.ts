import * as v from 'valibot';
import { declareRoute } from '../../shared/http/routes';
import { text } from '../../shared/http/schemas';
import { TICKET_PATTERN } from '../../shared/oauth/oauth';

/** Declarations of the OAuth ticket route (docs/api.md, "OAuth2 web authorization"). */

const TICKET_MESSAGE = 'body must be JSON {"ticket": "<the wxhub_ticket of the redirect>"}';

export const oauthRedeem = declareRoute({
  method: 'POST',
  path: '/v1/oauth/tickets/redeem',
  tag: 'oauth',
  summary: 'Redeem a wxhub_ticket for the signed-in user',
  description:
    'Once: a second redeem, or one after 5 minutes, is 410 `GONE`; a ticket the hub never ' +
    'issued is 404. No WeChat code or OAuth token is ever answered.',
  body: v.object(
    { ticket: v.pipe(v.string(TICKET_MESSAGE), v.regex(TICKET_PATTERN, TICKET_MESSAGE)) },
    TICKET_MESSAGE,
  ),
  responses: {
    200: {
      description: 'who signed in',
      schema: v.object({
        app: text('the app name'),
        openid: text("the user's openid for the account"),
        unionid: v.optional(text('present when WeChat sent one (Open Platform binding)')),
        scope: v.pipe(v.picklist(['snsapi_base', 'snsapi_userinfo']), v.description('granted')),
        user: v.optional(
          v.pipe(
            v.record(v.string(), v.unknown()),
            v.description("sns/userinfo's answer (snsapi_userinfo): nickname, headimgurl, …"),
          ),
        ),
        snapshotUser: v.optional(
          v.pipe(
            v.literal(true),
            v.description('snapshot mode (is_snapshotuser: 1): a virtual user, not signed in'),
          ),
        ),
      }),
    },
  },
  errors: ['BAD_REQUEST', 'NOT_FOUND', 'GONE'],
});

/** Every OAuth declaration, in mount order. */
export const OAUTH_ROUTES = [oauthRedeem];
