import { useEffect, useState } from 'react';

interface CopyButtonProps {
  text: string;
  label?: string;
  className?: string;
}

/** Copies to the clipboard and says so in a live region, so keyboard and screen-reader users hear it. */
export function CopyButton({ text, label = 'Copy', className = 'btn btn-secondary' }: CopyButtonProps) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2500);
    return () => clearTimeout(timer);
  }, [state]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  }

  return (
    <>
      <button type="button" className={className} onClick={copy}>
        {state === 'copied' ? 'Copied' : label}
      </button>
      <span className="visually-hidden" role="status">
        {state === 'copied' ? 'Copied to the clipboard' : ''}
        {state === 'failed' ? 'Copy failed: select the text and press Ctrl+C' : ''}
      </span>
    </>
  );
}
