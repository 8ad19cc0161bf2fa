/**
 * Imported first by `npm start`. The Lambda handlers the local run hosts log JSON lines through
 * Powertools (one per rejected request, by design); the run's report says what happened, so their
 * logs are silenced unless POWERTOOLS_LOG_LEVEL is set by the caller. The AWS SDK's notice that its
 * 2027 releases need Node 22 (the Lambda runtime is 22 already) is turned off with the SDK's own switch
 * unless the caller set it.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_DEV ??= 'false';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
