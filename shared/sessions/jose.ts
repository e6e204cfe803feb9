// The parts of jose (https://github.com/panva/jose) the session code uses, in a module of their
// own: an SCF package ships it as `jose.js`, loaded on the first login or signing-key change
// (scripts/build-lib.ts, LAZY_FILES), so the token function's cold start does not parse jose.
export { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
