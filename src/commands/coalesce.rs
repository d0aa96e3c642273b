//! Coalesced payments. One transaction per payment cannot beat the database's own commit rate,
//! so concurrent payment requests of a council are decided and posted together by the council's
//! writer task, which takes everything that queued while its last batch ran, claims every
//! idempotency key with one statement, decides and records the whole batch through
//! [`crate::payments::spend::decide_and_record`] (one lock statement, set-based facts, one
//! write), stores every outcome, and commits once. Each caller gets its own typed outcome.
//!
//! Isolation: a request that fails on its own (bad input, not visible) gets its error and its
//! key is released, in the same transaction as its batch-mates' work. If the batch itself fails
//! (a deadlock or serialization failure is retried whole; anything else), its requests run again
//! one by one, so one bad request never fails the others. A crash at any moment leaves each key
//! either done (committed with its outcome) or not done.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::claims::{self, Claim, Claimed};
use super::Ran;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::{retrying, tenant_tx, DbPool};
use crate::error::{AppError, AppResult};
use crate::payments::spend::{decide_and_record, NewPayment, PaymentOutcome, Request};

/// The most requests decided in one transaction.
pub const MAX_BATCH: usize = 256;

/// Writer tasks per council; a budget's requests all go to one of them (so writers never wait on
/// each other's account locks). Measured (`cargo bench --bench payments_http`): one writer makes
/// batches twice the size of two writers' and posts more a second, spread or hot, because most
/// of a batch's cost in the database is the same whatever its size.
const WRITERS_PER_COUNCIL: usize = 1;

/// Each writer's queue, by council and writer.
type Queues = HashMap<(Uuid, usize), mpsc::UnboundedSender<Job>>;

type Reply = oneshot::Sender<AppResult<Ran<PaymentOutcome>>>;

struct Job {
    request: Request,
    claim: Option<Claim>,
    reply: Reply,
}

/// How many batches of each size were committed (for the benchmark's report).
pub struct BatchSizes {
    counts: Vec<AtomicU64>,
}

impl BatchSizes {
    fn new() -> Self {
        BatchSizes {
            counts: (0..=MAX_BATCH).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn record(&self, size: usize) {
        if let Some(count) = self.counts.get(size.min(MAX_BATCH)) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (batches, mean size, 99th-percentile size) since the desk was made.
    pub fn summary(&self) -> (u64, f64, usize) {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let batches: u64 = counts.iter().sum();
        if batches == 0 {
            return (0, 0.0, 0);
        }
        let requests: u64 = counts
            .iter()
            .enumerate()
            .map(|(size, n)| size as u64 * n)
            .sum();
        let mut seen = 0;
        let mut p99 = 0;
        for (size, n) in counts.iter().enumerate() {
            seen += n;
            if seen * 100 >= batches * 99 {
                p99 = size;
                break;
            }
        }
        (batches, requests as f64 / batches as f64, p99)
    }
}

/// The payment path every caller uses: the API, the admin pages, the command line and jobs.
#[derive(Clone)]
pub struct PaymentDesk {
    pool: DbPool,
    clock: Clock,
    queues: Arc<Mutex<Queues>>,
    sizes: Arc<BatchSizes>,
}

impl PaymentDesk {
    pub fn new(pool: DbPool, clock: Clock) -> Self {
        PaymentDesk {
            pool,
            clock,
            queues: Arc::new(Mutex::new(HashMap::new())),
            sizes: Arc::new(BatchSizes::new()),
        }
    }

    /// Batch sizes seen so far.
    pub fn batch_sizes(&self) -> &BatchSizes {
        &self.sizes
    }

    /// Asks to pay: decided by the rules with the actor's authority, posted, held or refused
    /// (refusals are outcomes, recorded too). With a claim, the same key and request again gives
    /// the first outcome (`replayed`); errors store nothing.
    pub async fn pay(
        &self,
        actor: &Actor,
        new: NewPayment,
        claim: Option<Claim>,
    ) -> AppResult<Ran<PaymentOutcome>> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            request: Request {
                actor: actor.clone(),
                new,
            },
            claim,
            reply,
        };
        let writer = new_budget_shard(&job.request.new.budget_id);
        self.queue(actor.council_id, writer)
            .send(job)
            .map_err(|_| AppError::Internal("the payment writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("the payment writer dropped a request".into()))?
    }

    fn queue(&self, council_id: Uuid, writer: usize) -> mpsc::UnboundedSender<Job> {
        let mut queues = match self.queues.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(queue) = queues.get(&(council_id, writer)).filter(|q| !q.is_closed()) {
            return queue.clone();
        }
        let (send, receive) = mpsc::unbounded_channel();
        let task = Writer {
            pool: self.pool.clone(),
            clock: self.clock.clone(),
            council_id,
            sizes: self.sizes.clone(),
        };
        tokio::spawn(task.run(receive));
        queues.insert((council_id, writer), send.clone());
        send
    }
}

/// Which writer a budget's requests go to.
fn new_budget_shard(budget_id: &Uuid) -> usize {
    (budget_id.as_u128() % WRITERS_PER_COUNCIL as u128) as usize
}

struct Writer {
    pool: DbPool,
    clock: Clock,
    council_id: Uuid,
    sizes: Arc<BatchSizes>,
}

impl Writer {
    /// Takes what queued while the last batch ran, decides it, answers; until the desk is dropped.
    async fn run(self, mut receive: mpsc::UnboundedReceiver<Job>) {
        while let Some(job) = receive.recv().await {
            let mut batch = vec![job];
            while batch.len() < MAX_BATCH {
                match receive.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.answer(batch).await;
        }
    }

    async fn answer(&self, mut batch: Vec<Job>) {
        while !batch.is_empty() {
            // The same key twice in one batch: the later one waits for the next round, where it
            // finds the first one's stored outcome.
            let mut now_jobs: Vec<Job> = Vec::with_capacity(batch.len());
            let mut later: Vec<Job> = Vec::new();
            for job in batch {
                let repeated = job.claim.as_ref().is_some_and(|c| {
                    now_jobs
                        .iter()
                        .any(|j| j.claim.as_ref().is_some_and(|o| o.same_key(c)))
                });
                if repeated {
                    later.push(job);
                } else {
                    now_jobs.push(job);
                }
            }
            let work: Vec<(Request, Option<Claim>)> = now_jobs
                .iter()
                .map(|j| (j.request.clone(), j.claim.clone()))
                .collect();
            let results = self.decide(work).await;
            for (job, result) in now_jobs.into_iter().zip(results) {
                // The caller may have gone (timed out); the outcome is committed all the same.
                let _ = job.reply.send(result);
            }
            batch = later;
        }
    }

    /// Decides a batch in one transaction; if the batch fails as a whole, each request alone.
    async fn decide(
        &self,
        work: Vec<(Request, Option<Claim>)>,
    ) -> Vec<AppResult<Ran<PaymentOutcome>>> {
        let size = work.len();
        match self.attempt_guarded(work.clone()).await {
            Ok(results) => results,
            Err(e) if size == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e, size, "a payment batch failed; deciding its requests one by one");
                let mut results = Vec::with_capacity(size);
                for one in work {
                    results.push(self.attempt_guarded(vec![one]).await.and_then(|mut r| {
                        r.pop()
                            .ok_or_else(|| AppError::Internal("no result".into()))?
                    }));
                }
                results
            }
        }
    }

    /// One batch, retried whole on serialization failures and deadlocks; a panic is caught and
    /// becomes an error of the batch.
    async fn attempt_guarded(
        &self,
        work: Vec<(Request, Option<Claim>)>,
    ) -> AppResult<Vec<AppResult<Ran<PaymentOutcome>>>> {
        let (pool, clock, council_id) = (self.pool.clone(), self.clock.clone(), self.council_id);
        let size = work.len();
        let task = tokio::spawn(async move {
            let work = &work;
            retrying(|| attempt(&pool, &clock, council_id, work)).await
        });
        let results = task
            .await
            .map_err(|e| AppError::Internal(format!("a payment batch panicked: {e}")))??;
        self.sizes.record(size);
        Ok(results)
    }
}

async fn attempt(
    pool: &DbPool,
    clock: &Clock,
    council_id: Uuid,
    work: &[(Request, Option<Claim>)],
) -> AppResult<Vec<AppResult<Ran<PaymentOutcome>>>> {
    let mut client = pool.get().await?;
    let tx = tenant_tx(&mut client, council_id).await?;
    let now = clock.now();
    let mut results: Vec<Option<AppResult<Ran<PaymentOutcome>>>> =
        work.iter().map(|_| None).collect();

    let claimed_at: Vec<usize> = (0..work.len()).filter(|&i| work[i].1.is_some()).collect();
    let to_claim: Vec<Claim> = claimed_at
        .iter()
        .filter_map(|&i| work[i].1.clone())
        .collect();
    let claimed = if to_claim.is_empty() {
        Vec::new()
    } else {
        claims::claim(&tx, council_id, &to_claim).await?
    };
    let mut fresh = vec![true; work.len()];
    for (&i, answer) in claimed_at.iter().zip(claimed) {
        match answer {
            Ok(Claimed::Fresh) => {}
            Ok(Claimed::Done(stored)) => {
                fresh[i] = false;
                results[i] = Some(claims::stored_outcome(stored).map(|value| Ran {
                    value,
                    replayed: true,
                }));
            }
            Err(e) => {
                fresh[i] = false;
                results[i] = Some(Err(e));
            }
        }
    }
    let to_run: Vec<usize> = (0..work.len()).filter(|&i| fresh[i]).collect();
    let requests: Vec<&Request> = to_run.iter().map(|&i| &work[i].0).collect();
    let decided = if requests.is_empty() {
        Vec::new()
    } else {
        decide_and_record(&tx, council_id, &requests, now).await?
    };
    let mut done: Vec<(&Claim, serde_json::Value)> = Vec::new();
    let mut failed: Vec<&Claim> = Vec::new();
    for (&i, result) in to_run.iter().zip(decided) {
        match (&result, &work[i].1) {
            (Ok(outcome), Some(claim)) => done.push((
                claim,
                serde_json::to_value(outcome).map_err(|e| AppError::Internal(e.to_string()))?,
            )),
            (Err(_), Some(claim)) => failed.push(claim),
            _ => {}
        }
        results[i] = Some(result.map(|value| Ran {
            value,
            replayed: false,
        }));
    }
    claims::finish(&tx, council_id, &done).await?;
    claims::release(&tx, council_id, &failed).await?;
    tx.commit().await?;
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| AppError::Internal("a request was left unanswered".into())))
        .collect()
}
