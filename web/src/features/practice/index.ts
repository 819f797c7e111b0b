export { PracticePage } from './components/PracticePage';
export { playClip, stopClip } from './api/clip';
