import { MemberSummary } from './member-summary.response';
import { PageOf } from '../../platform/http/pagination';

export class RecipientPageResponse extends PageOf(MemberSummary, 'RecipientPageResponse') {}
