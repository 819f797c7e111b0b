export { useScoringEngine, useTakeScores, useSignedIn } from './hooks/useScoring';
export { TakeScore } from './components/TakeScore';
export { AssessmentView } from './components/AssessmentView';
export { ShadowingView } from './components/ShadowingView';
export { earlierText, scoreView } from './components/scoreView';
export { spokenWords } from './api/shadowing';
