-- Read watermarks (docs/DELIVERY.md, "Read state"): per user and stream, everything at or below
-- `read_offset` is read for that user. Mark-all-read moves it to the stream's head, one row per
-- stream the user reads, instead of one notification_reads row per unread notification. It holds
-- only while the stream keeps `epoch` (a stream created again starts its offsets over).

-- CreateTable
CREATE TABLE "notification_read_marks" (
    "user_id" UUID NOT NULL,
    "stream" TEXT NOT NULL,
    "epoch" TEXT NOT NULL,
    "read_offset" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_read_marks_pkey" PRIMARY KEY ("user_id","stream")
);

-- AddForeignKey
ALTER TABLE "notification_read_marks" ADD CONSTRAINT "notification_read_marks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
