/** Imported first by benchmarks that host the Lambda handlers: their Powertools logs are silenced. */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
