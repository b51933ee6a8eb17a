import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The data folder: only its owner may list or enter it. */
export const PRIVATE_DIR_MODE = 0o700;
/** The database and SQLite's files beside it: webhook secrets and stored answers live in them. */
export const PRIVATE_FILE_MODE = 0o600;
/** SQLite's files beside the database: the WAL and its index (WAL mode), a rollback journal (briefly,
 *  while the one-off VACUUM of an older file runs). SQLite creates them with the database's mode. */
const SIDE_FILE_SUFFIXES = ['-wal', '-shm', '-journal'];
const GROUP_OR_OTHER = 0o077;

export interface DataDirReport {
  created: boolean;
  /** An existing folder of ours that others could read, made private now. */
  madePrivate: boolean;
  /** Why an existing folder that others can read was left as it is (the files are private anyway). */
  leftShared?: string;
}

/**
 * Makes `dataDir` and the database file `fileName` in it private to this user before SQLite opens it
 * (issue 11: "webhook secrets not readable by other users of the machine"). A new folder is created
 * 0700. An existing one is made 0700 only if it is ours: owned by this user and holding nothing but
 * this database's files; a folder named by DATA_DIR that holds other things (a home folder, /tmp) is
 * left alone, and the files' own 0600 keep them private. The database file is created 0600 here, so
 * that SQLite's WAL and shared-memory files, which it creates with the database's mode, are too; files
 * of an older release (0644 under the usual umask) are made 0600.
 */
export function preparePrivateFiles(dataDir: string, fileName: string): DataDirReport {
  // mkdir applies the mode (less the umask) to every folder it creates; undefined: none was created.
  const created = mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE }) !== undefined;
  const report: DataDirReport = { created, madePrivate: false };
  const uid = process.getuid?.();
  // Windows has no POSIX modes (and no getuid): nothing to do there.
  if (uid === undefined) return report;

  const dir = statSync(dataDir);
  if (dir.mode & GROUP_OR_OTHER) {
    const others = readdirSync(dataDir).filter((name) => !name.startsWith(fileName));
    if (dir.uid !== uid) report.leftShared = `owned by uid ${dir.uid}, not this process's (${uid})`;
    else if (others.length > 0)
      report.leftShared = `it holds other files too (${others.slice(0, 3).join(', ')})`;
    else {
      chmodSync(dataDir, PRIVATE_DIR_MODE);
      report.madePrivate = true;
    }
  }

  const file = join(dataDir, fileName);
  // 'a': creates it if missing (an empty file is an empty SQLite database), never truncates.
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  for (const path of [file, ...SIDE_FILE_SUFFIXES.map((suffix) => file + suffix)]) {
    // Absent: SQLite will create it with the database's mode.
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat && stat.mode & GROUP_OR_OTHER) chmodSync(path, PRIVATE_FILE_MODE);
  }
  return report;
}
