export { AlertHub, type AlertSink } from './hub';
export { SubscriberEndpoint, type SubscriberEndpointOptions, type SubscriberPrincipal } from './ws-subscribers';
export { followAlerts, alertsUrl, type FollowOptions, type Follower } from './client';
export { alertsToStixBundle, exportStix, parseSince, type StixBundle, type StixProducer } from './stix';
export { filterFromQuery, toAlertFilter, isSeverity } from './filter';
