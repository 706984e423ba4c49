"""IAM Identity Center (SSO): profiles, the aws CLI's token cache, role credentials, login, populate, logout.

One job per module; only `clients` imports boto3, and nothing here is imported on the warm path except
`settings` (what the profile says, checked) and `errors`:

- settings:     an SSO profile's settings (both botocore shapes) and its two endpoints, every value checked
- errors:       LoginNeeded (exit 3) and the one-line fix it names
- token_cache:  the token and client-registration files of ~/.aws/sso/cache, read and written as the aws CLI does
- clients:      isolated, unsigned sso-oidc and sso clients; AWS's refusals as one-line AwsErrors
- renewal:      an access token that works now, renewed with the refresh token single-flight across processes
- portal:       GetRoleCredentials, ListAccounts, ListAccountRoles, Logout, their answers checked
- device_login: the device authorization flow of `stsenv login` for a profile of an SSO session
- populate:     one profile per account and role of a session, added to ~/.aws/config without touching the user's
- logout:       the end of a session: its token file removed (and the portal told)

The kind itself is a row of stsenv.kinds (SSO), built by stsenv.resolution and fetched by stsenv.providers.sso;
the commands are `stsenv login`, `stsenv logout --sso` and `stsenv sso populate` (docs/sso.md).
"""
