export interface NoticeMessage {
  kind: 'info' | 'success' | 'error';
  text: string;
}

/** An inline message; errors are announced assertively. */
export function Notice({ message, onClose, closeLabel }: { message: NoticeMessage | null; onClose?: () => void; closeLabel?: string }) {
  if (!message) return null;
  return (
    <div className={`notice notice-${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'} data-testid={`notice-${message.kind}`}>
      <span>{message.text}</span>
      {onClose && (
        <button type="button" className="icon-btn" onClick={onClose} aria-label={closeLabel ?? 'Close'}>
          ×
        </button>
      )}
    </div>
  );
}
