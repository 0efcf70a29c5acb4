// @ts-check
// Preloaded by `npm run quickstart` (node --import): the AWS SDK warns on Node < 22 about its own future
// support policy in the middle of the quickstart's output. This is the SDK's own switch for exactly that
// one warning, set in this process only; the example itself stays what a user would copy.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
