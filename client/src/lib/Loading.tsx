import { Component, type ReactNode, Suspense } from 'react';

/**
 * What a part of the page loaded on first need (React.lazy, docs/architecture.md "What a phone loads
 * first") shows while its script arrives: a polite status, so a screen reader hears it once without
 * being interrupted, and nothing that moves.
 */
export function Loading({ what }: { what: string }) {
  return (
    <p className="hint loading" role="status" data-testid="lazy-loading">
      Loading {what}…
    </p>
  );
}

interface Props {
  /** "the race page": said while it loads, and if it cannot. */
  what: string;
  children: ReactNode;
}

/**
 * A lazy part of the page: `Loading` while its script arrives, and an alert in its place if the script
 * cannot be fetched (a phone that lost the network), rather than the whole page unmounting with the
 * error. Reloading fetches it again.
 */
export class OnFirstNeed extends Component<Props, { failed: string | undefined }> {
  override state: { failed: string | undefined } = { failed: undefined };

  static getDerivedStateFromError(error: unknown) {
    return { failed: error instanceof Error ? error.message : String(error) };
  }

  override render() {
    const { what, children } = this.props;
    if (this.state.failed !== undefined) {
      return (
        <p className="room-problem" role="alert" data-testid="lazy-failed">
          Could not load {what} ({this.state.failed}). Reload the page to try again.
        </p>
      );
    }
    return <Suspense fallback={<Loading what={what} />}>{children}</Suspense>;
  }
}
