import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { MemberSummary } from '@resident-messaging/client';
import { useRecipients, useStartThread } from '@resident-messaging/client/react';
import { navigate, paths } from './routing';
import { QueryError } from './QueryError';
import { useDebounced } from './useDebounced';
import { useSession } from './session';

const ROLE_LABELS: Record<string, string> = {
  resident: 'Resident',
  manager: 'Manager',
  org_admin: 'Administrator',
};

/** A combobox over the recipient directory; picking a member opens (or starts) the thread. */
export function RecipientSearch(props: { onClose: () => void }) {
  const { me } = useSession();
  const id = useId();
  const inputId = `${id}-input`;
  const listboxId = `${id}-listbox`;
  const optionId = (index: number) => `${id}-option-${index}`;

  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(true);
  const [active, setActive] = useState(-1);
  const inputRef = useRef<HTMLInputElement>(null);

  const q = query.trim();
  const debounced = useDebounced(q, 150);
  const recipients = useRecipients(debounced, { limit: 20 });
  const startThread = useStartThread();

  // Only results for what is typed now: a stale list must never be picked from.
  const inSync = debounced === q && !recipients.isPending;
  const options: MemberSummary[] = inSync
    ? (recipients.data?.data ?? []).filter((member) => member.userId !== me.userId)
    : [];
  const expanded = open && options.length > 0 && !startThread.isPending;
  const activeIndex = active < options.length ? active : -1;

  useEffect(() => {
    inputRef.current?.focus();
  }, []);

  useEffect(() => {
    if (activeIndex >= 0) {
      document.getElementById(`${id}-option-${activeIndex}`)?.scrollIntoView({ block: 'nearest' });
    }
  }, [activeIndex, id]);

  const pick = (member: MemberSummary) => {
    setQuery(member.displayName);
    setOpen(false);
    setActive(-1);
    startThread.mutate(
      { recipientId: member.userId },
      { onSuccess: (result) => navigate(paths.thread(result.thread.id)) },
    );
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const count = options.length;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!open) setOpen(true);
        if (count > 0) setActive(activeIndex < 0 ? 0 : (activeIndex + 1) % count);
        break;
      case 'ArrowUp':
        event.preventDefault();
        if (!open) setOpen(true);
        if (count > 0) setActive(activeIndex <= 0 ? count - 1 : activeIndex - 1);
        break;
      case 'Enter':
        event.preventDefault();
        if (expanded) pick(options[activeIndex >= 0 ? activeIndex : 0]);
        break;
      case 'Escape':
        event.preventDefault();
        if (expanded) {
          setOpen(false);
          setActive(-1);
        } else {
          props.onClose();
        }
        break;
    }
  };

  let status = '';
  if (startThread.isPending) status = 'Opening the conversation…';
  else if (!inSync) status = 'Searching…';
  else if (!recipients.isError && options.length === 0) status = 'No members found';
  else if (expanded) status = `${options.length} ${options.length === 1 ? 'member' : 'members'}`;

  return (
    <div className="recipient-search panel">
      <label htmlFor={inputId}>Recipient</label>
      <div className="combobox">
        <input
          ref={inputRef}
          id={inputId}
          className="input"
          type="text"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={listboxId}
          aria-activedescendant={expanded && activeIndex >= 0 ? optionId(activeIndex) : undefined}
          autoComplete="off"
          spellCheck={false}
          placeholder="Search by name"
          value={query}
          onChange={(event) => {
            setQuery(event.target.value);
            setOpen(true);
            setActive(-1);
          }}
          onKeyDown={onKeyDown}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
        />
        <ul
          role="listbox"
          id={listboxId}
          aria-label="Recipients"
          className="listbox"
          hidden={!expanded}
        >
          {options.map((member, index) => (
            <li
              key={member.userId}
              id={optionId(index)}
              role="option"
              aria-selected={index === activeIndex}
              aria-label={member.displayName}
              aria-describedby={`${optionId(index)}-role`}
              className={`option ${index === activeIndex ? 'active' : ''}`}
              // Keep focus in the input: the click picks.
              onMouseDown={(event) => event.preventDefault()}
              onClick={() => pick(member)}
            >
              <span className="option-name">{member.displayName}</span>
              <span id={`${optionId(index)}-role`} className="option-role">
                {ROLE_LABELS[member.role] ?? member.role}
              </span>
            </li>
          ))}
        </ul>
      </div>
      <p role="status" className="muted search-status">
        {status}
      </p>
      {recipients.isError && (
        <QueryError
          what="Could not search members"
          error={recipients.error}
          onRetry={() => void recipients.refetch()}
        />
      )}
      {startThread.isError && (
        <QueryError what="Could not open the conversation" error={startThread.error} />
      )}
      <div>
        <button type="button" className="button secondary" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </div>
  );
}
