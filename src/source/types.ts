// The contract every manifest source (watched directory, git branch) implements.

export interface ManifestSource {
  /**
   * Starts the source and resolves once the first load was delivered — or, for git, once the first
   * poll failed (already reported through onError): a daemon must come up with the remote down.
   */
  start(): Promise<void>;
  /** Stops the source; no callback starts after it resolves. */
  stop(): Promise<void>;
  /** Look for changes now instead of at the next poll (git only: SIGHUP, `autoserve sync`). */
  syncNow?(): void;
  /**
   * Read the manifests again although no change was reported (directory mode, at every resync:
   * a missed inotify event or an exhausted watch limit must not leave desired state stale).
   */
  reread?(): void;
}
