/* PLACEHOLDER until the evidence branch merges (removed at merge). */
#include "evidence/evidence_client.h"
#include <stdio.h>
evidence_client *evidence_client_start(const evidence_client_config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    snprintf(err, errlen, "the evidence client is not built yet");
    return NULL;
}
void evidence_client_emit(evidence_client *ec, const evidence_event *ev) { (void)ec; (void)ev; }
void evidence_client_counts(evidence_client *ec, uint64_t *a, uint64_t *b, uint64_t *c)
{ (void)ec; *a = *b = *c = 0; }
void evidence_client_stop(evidence_client *ec, int grace_ms) { (void)ec; (void)grace_ms; }
