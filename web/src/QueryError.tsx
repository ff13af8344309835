import { errorMessage } from './errors';

/** A failed query, inline: what the API said and a way to try again. */
export function QueryError(props: { error: unknown; onRetry?: () => void; what?: string }) {
  return (
    <div role="alert" className="inline-error">
      <p>
        {props.what ? `${props.what}: ` : ''}
        {errorMessage(props.error)}
      </p>
      {props.onRetry && (
        <button type="button" className="button secondary" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
