export { PracticePage } from './components/PracticePage';
export { playClip, stopClip } from './api/clip';
export { KeepMaterialMedia } from './components/Player';
