import { LibraryPage } from '../../features/library';

export function LibraryRoute() {
  return <LibraryPage />;
}
