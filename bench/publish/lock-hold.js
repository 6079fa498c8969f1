'use strict';
/**
 * The stream-lock hold figures of the publish scenario, from the gateway's
 * notify_stream_lock_hold_seconds (sum, count) and notify_group_commit_notifications_total,
 * however they were read (the /metrics text or the in-process registry).
 */

const { round } = require('../lib/util.js');

/** @param {{ groups: number, notifications: number, holdSeconds: number }} counts */
function holdFigures({ groups, notifications, holdSeconds }) {
  return {
    groups,
    notifications,
    holdSeconds,
    holdMsPerGroup: groups ? round((holdSeconds / groups) * 1000, 3) : null,
    holdMsPerNotification: notifications ? round((holdSeconds / notifications) * 1000, 4) : null,
  };
}

/** The hold between two readings (the measured run, not the warm-up). @param {any} before @param {any} after */
function holdBetween(before, after) {
  return holdFigures({ groups: after.groups - before.groups, notifications: after.notifications - before.notifications, holdSeconds: after.holdSeconds - before.holdSeconds });
}

module.exports = { holdFigures, holdBetween };
