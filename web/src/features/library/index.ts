export { LibraryPage } from './components/LibraryPage';
export { attachSubtitles } from './api/importMaterial';
export { describeImportError, describeSkipped } from './components/errors';
