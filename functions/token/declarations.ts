import * as app from './api';
import * as component from './component-api';

/** Every declaration of the token function, in mount order (the API document's order). */
export const TOKEN_ROUTES = [
  component.authorizerList,
  component.authorizerSync,
  component.authorizerGet,
  app.appToken,
  component.componentToken,
  component.componentAuthUrl,
  component.authorizerToken,
  component.authorizerInvalidate,
  component.authorizerTicket,
  component.authorizerJssdk,
  component.authorizerCode2Session,
  app.appInvalidate,
  app.appJssdk,
  app.appCode2Session,
  app.appTicket,
];
