import { useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useSendMessage } from '@resident-messaging/client/react';
import { errorMessage } from './errors';

/** The API's limit, in Unicode code points. */
const MAX_LENGTH = 4000;

/** Enter sends, Shift+Enter breaks the line; a failed send shows why, with "Retry". */
export function Composer({ threadId }: { threadId: string }) {
  const send = useSendMessage(threadId);
  const [body, setBody] = useState('');
  const [tooLong, setTooLong] = useState(false);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const length = [...body].length;

  const submit = () => {
    const text = body.trim();
    textarea.current?.focus();
    if (!text) return;
    if ([...text].length > MAX_LENGTH) {
      setTooLong(true);
      return;
    }
    send.mutate({ body: text });
    setBody('');
    setTooLong(false);
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  const retry = () => {
    if (send.variables) send.mutate(send.variables);
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      {send.isError && (
        <div role="alert" className="send-error">
          <p>
            <strong>Not sent.</strong> {errorMessage(send.error)}
          </p>
          <div className="send-error-actions">
            <button type="button" className="button small" onClick={retry}>
              Retry
            </button>
            <button type="button" className="button secondary small" onClick={() => send.reset()}>
              Dismiss
            </button>
          </div>
        </div>
      )}
      {tooLong && (
        <p role="alert" className="field-error">
          A message can be at most {MAX_LENGTH} characters long; this one has {length}.
        </p>
      )}
      <label htmlFor={`${id}-body`} className="visually-hidden">
        Message
      </label>
      <div className="composer-row">
        <textarea
          ref={textarea}
          id={`${id}-body`}
          className="input composer-input"
          rows={2}
          placeholder="Write a message"
          value={body}
          aria-describedby={`${id}-hint`}
          aria-invalid={tooLong || undefined}
          onChange={(event) => {
            setBody(event.target.value);
            if (tooLong) setTooLong([...event.target.value.trim()].length > MAX_LENGTH);
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="button">
          Send
        </button>
      </div>
      <p id={`${id}-hint`} className="composer-hint">
        Enter to send, Shift+Enter for a new line.
        {length > MAX_LENGTH - 200 && (
          <span className={length > MAX_LENGTH ? 'over' : ''}>
            {' '}
            {length} / {MAX_LENGTH}
          </span>
        )}
      </p>
    </form>
  );
}
