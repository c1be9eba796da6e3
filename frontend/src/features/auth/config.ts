/** The first-party public client and the provider's endpoints (same origin as the app). */
export const CLIENT_ID = 'yunyi-web'
/** SMART scopes read the medical record: `patient/` for one's own and wards', `user/` for clinicians. */
export const SCOPE = 'openid profile fhirUser offline_access patient/*.rs user/*.rs'
export const AUTHORIZE_PATH = '/o/authorize/'
export const TOKEN_PATH = '/o/token/'
export const REVOKE_PATH = '/o/revoke_token/'
export const LOGOUT_PATH = '/o/logout/'
export const CALLBACK_PATH = '/auth/callback'
