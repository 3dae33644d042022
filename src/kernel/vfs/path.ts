// Guest paths are byte strings (one char per byte). These helpers are pure string work:
// they never look at the host, so `..` here is purely lexical on canonical paths.

/** The non-empty components of a path; `.` and `..` are kept for the walk to interpret. */
export function components(path: string): string[] {
  return path.split('/').filter((c) => c.length > 0);
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Parent of a canonical path; the parent of `/` is `/`. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Linux's NAME_MAX: longer components are ENAMETOOLONG before any lookup. */
export const NAME_MAX = 255;
/** Linux's PATH_MAX, counting the terminating NUL. */
export const PATH_MAX = 4096;
/** Linux's MAXSYMLINKS: the 41st link followed in one lookup is ELOOP. */
export const MAX_SYMLINKS = 40;
