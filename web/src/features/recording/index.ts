export { useRecorder, type RecorderState } from './hooks/useRecorder';
export { useTakes, useTakeCounts } from './hooks/useTakes';
export { TakeList } from './components/TakeList';
export { playTake, playTakePart, stopTake } from './api/takes';
