import { SetMetadata } from '@nestjs/common';

export const OWN_TRANSACTIONS = 'rm:ownTransactions';

/**
 * The handler opens its tenant transactions itself (TenantRunner) instead of running inside one:
 * for a long-lived response (an event stream) that must not hold a connection for its lifetime.
 */
export const OwnTransactions = () => SetMetadata(OWN_TRANSACTIONS, true);
