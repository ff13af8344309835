/**
 * Metadata of a handler that opens its tenant work itself (TenantRunner) instead of running inside
 * a tenant transaction: a route that is one statement, or a long-lived response (an event stream)
 * that must not hold a connection for its lifetime. Declared with @Endpoint({ ownTransactions:
 * true }), which also leaves TenantContextInterceptor off the route.
 */
export const OWN_TRANSACTIONS = 'rm:ownTransactions';
