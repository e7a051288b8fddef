from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

from .choices import (
    DEFAULT_CLASSES_BY_UNIT_CLASS,
    DEFAULT_DECLINE_MARGINS,
    DEFAULT_LEGEND,
    DEFAULT_MIN_AREA_M2,
    DEFAULT_NDVI_THRESHOLD,
    Averaging,
    LayerKind,
    LayerStatus,
    Medium,
    WindowStatus,
)


def _default_legend() -> dict:
    return dict(DEFAULT_LEGEND)


def _default_classes() -> dict:
    return {k: list(v) for k, v in DEFAULT_CLASSES_BY_UNIT_CLASS.items()}


def _default_margin() -> float:
    return float(settings.MONITORING_DECLINE_MARGIN_PCT)


def _default_margins() -> dict:
    return dict(DEFAULT_DECLINE_MARGINS)


class ScanRuleSet(models.Model):
    """A plan's change legend and lead rules: which classes raise leads in which unit class."""

    plan = models.OneToOneField(ZoningPlan, on_delete=models.CASCADE, related_name="scan_rules")
    legend = models.JSONField(_("图例"), default=_default_legend)
    classes_by_unit_class = models.JSONField(_("各类单元触发线索的变化类型"), default=_default_classes)
    min_area_m2 = models.FloatField(_("最小图斑面积（平方米）"), default=DEFAULT_MIN_AREA_M2)
    ndvi_threshold = models.FloatField(_("NDVI 下降阈值"), default=DEFAULT_NDVI_THRESHOLD)
    decline_margin_pct = models.FloatField(_("质量下降判定幅度（%）"), default=_default_margin)
    # Per-parameter margins (percent) that override `decline_margin_pct`, e.g. {"PM2.5": 20}.
    decline_margins = models.JSONField(_("各指标质量下降判定幅度（%）"), default=_default_margins, blank=True)
    # Days without a finding that may separate two findings of one episode (null: the setting).
    episode_gap_days = models.PositiveSmallIntegerField(_("同一过程允许间隔天数"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("遥感扫描规则")
        verbose_name_plural = _("遥感扫描规则")
        constraints = [
            models.CheckConstraint(condition=Q(min_area_m2__gte=0), name="scan_rules_min_area_non_negative"),
            models.CheckConstraint(condition=Q(decline_margin_pct__gte=0), name="scan_rules_margin_non_negative"),
            models.CheckConstraint(condition=Q(episode_gap_days__lte=366), name="scan_rules_episode_gap_at_most_year"),
        ]

    def __str__(self) -> str:
        return f"rules of {self.plan.code}"


class ChangeLayer(models.Model):
    """A change-detection GeoTIFF registered for scanning against one plan's units."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.PROTECT, related_name="change_layers")
    kind = models.CharField(_("类型"), max_length=16, choices=LayerKind.choices)
    name = models.CharField(_("文件名"), max_length=200)
    path = models.CharField(_("文件路径"), max_length=500)
    checksum = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.BigIntegerField(_("文件大小（字节）"), default=0)
    before_date = models.DateField(_("前时相"), null=True, blank=True)
    after_date = models.DateField(_("后时相"), null=True, blank=True)
    sensor = models.CharField(_("传感器"), max_length=100, blank=True)
    source = models.CharField(_("数据来源"), max_length=200, blank=True)
    # Per-layer overrides of the plan's rules (null: the plan's ScanRuleSet applies).
    threshold = models.FloatField(_("NDVI 阈值"), null=True, blank=True)
    min_area_m2 = models.FloatField(_("最小图斑面积（平方米）"), null=True, blank=True)
    before_image = models.CharField(_("前时相影像"), max_length=500, blank=True)
    after_image = models.CharField(_("后时相影像"), max_length=500, blank=True)
    info = models.JSONField(_("栅格信息"), default=dict, blank=True)
    rules = models.JSONField(_("本次扫描规则"), default=dict, blank=True)

    status = models.CharField(_("状态"), max_length=16, choices=LayerStatus.choices, default=LayerStatus.QUEUED)
    error = models.TextField(_("错误"), blank=True)
    # Bumped by every (re-)scan; window tasks of an older run see the mismatch and stop.
    scan_run = models.PositiveIntegerField(default=0)
    windows_total = models.PositiveIntegerField(default=0)
    windows_done = models.PositiveIntegerField(default=0)
    # Last sign of life of the running scan (a window finished or started, the merge
    # began): the stall sweep requeues or fails a layer whose heartbeat is too old.
    heartbeat_at = models.DateTimeField(_("最近进展"), null=True, blank=True)
    requeues = models.PositiveIntegerField(_("重新排队次数"), default=0)
    patches_edge = models.PositiveIntegerField(_("跨窗口图斑"), default=0)  # patches the merge joined
    merge_seconds = models.FloatField(_("合并耗时（秒）"), null=True, blank=True)
    valid_fraction = models.FloatField(_("有效像元比例"), null=True, blank=True)
    changed_pixels = models.BigIntegerField(_("变化像元数"), default=0)
    patches_total = models.PositiveIntegerField(_("图斑总数"), default=0)
    patches_qualifying = models.PositiveIntegerField(_("符合条件的图斑"), default=0)
    leads_created = models.PositiveIntegerField(_("新线索"), default=0)
    leads_repeated = models.PositiveIntegerField(_("重复检出"), default=0)
    leads_unchanged = models.PositiveIntegerField(_("已记录"), default=0)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last attempt to send the scan task (queueing and every requeue sweep): a layer still
    # queued long after it was never picked up (broker down, message lost) and is sent again.
    task_sent_at = models.DateTimeField(_("扫描任务发送时间"), null=True, blank=True)
    # when the chip tasks of its new leads were last sent (a sweep re-sends those still pending)
    chips_sent_at = models.DateTimeField(_("证据图片任务发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("遥感变化图层")
        verbose_name_plural = _("遥感变化图层")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "checksum"], name="change_layer_file_once_per_plan"),
            models.CheckConstraint(condition=Q(kind__in=LayerKind.values), name="change_layer_kind_known"),
            models.CheckConstraint(condition=Q(status__in=LayerStatus.values), name="change_layer_status_known"),
            models.CheckConstraint(
                condition=Q(windows_done__lte=F("windows_total")), name="change_layer_windows_done_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} ({self.status})"

    @property
    def progress(self) -> int:
        """Percent: windows scanned make 0-90, the merge and lead raising the last 10."""
        if self.status == LayerStatus.DONE:
            return 100
        if not self.windows_total:
            return 0
        return min(90, int(90 * self.windows_done / self.windows_total))

    @property
    def is_stalled(self) -> bool:
        """Running, but no window started or finished for SCAN_STALL_SECONDS (the sweep will act)."""
        from django.utils import timezone

        if self.status != LayerStatus.RUNNING:
            return False
        last = self.heartbeat_at or self.started_at
        return last is not None and (timezone.now() - last).total_seconds() > settings.SCAN_STALL_SECONDS

    def peers(self) -> models.QuerySet:
        """The other layers of the same plan or the same file."""
        return ChangeLayer.objects.filter(Q(plan_id=self.plan_id) | Q(checksum=self.checksum)).exclude(pk=self.pk)

    def running_peer(self) -> int | None:
        """Another running layer of the same plan or file, if any: this one starts only after it.

        One running layer per plan and per file: its windows raise leads without excluding
        each other, which two layers over the same units (or of one file) must not do at once.
        """
        return self.peers().filter(status=LayerStatus.RUNNING).values_list("pk", flat=True).first()

    @cached_property
    def waiting_for(self) -> int | None:
        """For a queued layer: the running layer it waits for."""
        return self.running_peer() if self.status == LayerStatus.QUEUED else None

    @property
    def state(self) -> str:
        """The true state for people: queued, waiting, requeued, running, stalled, done or failed."""
        if self.is_stalled:
            return "stalled"
        if self.waiting_for:
            return "waiting"
        if self.status == LayerStatus.QUEUED and self.requeues:
            return "requeued"
        return str(self.status)

    @property
    def state_detail(self) -> str:
        """Why: a failed layer's error, a requeued layer's reason, a stalled layer's silence."""
        if self.status == LayerStatus.FAILED:
            return self.error
        if self.is_stalled:
            last = self.heartbeat_at or self.started_at
            return f"no progress since {last:%Y-%m-%d %H:%M:%S} UTC"
        if self.waiting_for:
            return _("waits for change layer #%(layer_id)s of the same plan or file") % {"layer_id": self.waiting_for}
        if self.requeues and self.status in (LayerStatus.QUEUED, LayerStatus.RUNNING):
            return f"requeued {self.requeues}× ({self.error})" if self.error else f"requeued {self.requeues}×"
        return ""

    @property
    def leads_total(self) -> int:
        return self.leads_created + self.leads_repeated + self.leads_unchanged


class ChangeLayerEvent(models.Model):
    """One status change of a change layer."""

    layer = models.ForeignKey(ChangeLayer, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    comment = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class ChangeLayerWindow(models.Model):
    """One window of a scan and its JSON result, upserted by the window task (safe to run twice)."""

    layer = models.ForeignKey(ChangeLayer, on_delete=models.CASCADE, related_name="windows")
    scan_run = models.PositiveIntegerField()
    index = models.PositiveIntegerField()
    row_off = models.PositiveIntegerField()
    col_off = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=WindowStatus.choices, default=WindowStatus.PENDING)
    result = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # deliveries that started this window
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["layer", "index"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "index"], name="change_window_index_unique"),
            models.CheckConstraint(condition=Q(status__in=WindowStatus.values), name="change_window_status_known"),
        ]


class MonitoringStation(models.Model):
    """An ambient air or surface-water monitoring station (监测站点/断面)."""

    code = models.CharField(_("站点编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    medium = models.CharField(_("要素"), max_length=8, choices=Medium.choices)
    location = models.PointField(_("位置"), srid=settings.STORAGE_SRID)
    # Air: GB 3095-2012 grade (I for class-1 areas, II elsewhere); water: GB 3838-2002 class objective.
    target_grade = models.CharField(_("目标级别/水质类别"), max_length=4, default="II")
    division = models.ForeignKey(AdministrativeDivision, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("监测站点")
        verbose_name_plural = _("监测站点")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(medium__in=Medium.values), name="station_medium_known"),
            models.CheckConstraint(
                condition=Q(target_grade__in=["I", "II", "III", "IV", "V"]), name="station_target_grade_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MonitoringReading(models.Model):
    """One reading of one parameter at a station on a day (daily mean, max-8h or a water sample)."""

    station = models.ForeignKey(MonitoringStation, on_delete=models.CASCADE, related_name="readings")
    parameter = models.CharField(_("指标"), max_length=16)
    observed_on = models.DateField(_("日期"))
    averaging = models.CharField(_("统计方式"), max_length=8, choices=Averaging.choices)
    # In the parameter's canonical unit (standards.CANONICAL_UNITS); converted on import.
    value = models.FloatField(_("数值"))
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    # Valid hourly values behind a daily value (HJ 663-2013: a 24 h mean needs 20); null: not reported.
    hours = models.PositiveSmallIntegerField(_("有效小时数"), null=True, blank=True)

    class Meta:
        verbose_name = _("监测数据")
        verbose_name_plural = _("监测数据")
        ordering = ["station", "parameter", "observed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "parameter", "observed_on", "averaging"], name="reading_once_per_day"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="reading_value_non_negative"),
            models.CheckConstraint(condition=Q(averaging__in=Averaging.values), name="reading_averaging_known"),
            models.CheckConstraint(condition=Q(hours__lte=24), name="reading_hours_at_most_24"),
        ]
        indexes = [models.Index(fields=["parameter", "observed_on"], name="reading_param_day_idx")]


class GridLayer(models.Model):
    """A gridded monitoring raster (e.g. a PM2.5 period mean), summarised per unit of a plan."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="grid_layers")
    parameter = models.CharField(_("指标"), max_length=16)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    name = models.CharField(_("文件名"), max_length=200)
    path = models.CharField(_("文件路径"), max_length=500)
    checksum = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("网格监测图层")
        verbose_name_plural = _("网格监测图层")
        ordering = ["plan", "parameter", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "parameter", "period_start", "period_end"], name="grid_period_unique"
            ),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="grid_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.parameter} {self.period_start}..{self.period_end}"


class UnitZonalStat(models.Model):
    """The mean of a grid layer over one unit (pixel centres inside the unit, nodata ignored)."""

    grid = models.ForeignKey(GridLayer, on_delete=models.CASCADE, related_name="stats")
    unit = models.ForeignKey(ControlUnit, on_delete=models.CASCADE, related_name="zonal_stats")
    mean = models.FloatField(null=True, blank=True)
    valid_pixels = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["grid", "unit"]
        constraints = [models.UniqueConstraint(fields=["grid", "unit"], name="zonal_stat_once_per_unit")]


class CemsValue(models.Model):
    """One enterprise CEMS value (HJ 212 CN=2061 hourly / 2051 minute) of a device, outlet and pollutant.

    The table is created by migration 0003_cems_values as a PostgreSQL table partitioned by
    month of `data_time` (a province sends ~15 million rows a month); Django only reads and
    bulk-inserts it. The key includes `data_time`, as a partitioned table's keys must.
    """

    id = models.BigAutoField(primary_key=True)
    device_mn = models.CharField(_("监测设备编码"), max_length=32)
    outlet_code = models.CharField(_("排放口编码"), max_length=32)
    pollutant_code = models.CharField(_("污染物代码"), max_length=16)
    # The HJ 212 command the value came in: 2061 hourly, 2051 minute.
    cn = models.PositiveSmallIntegerField(_("数据类型"))
    data_time = models.DateTimeField(_("数据时间"))
    avg = models.FloatField(_("均值"), null=True)
    min = models.FloatField(_("最小值"), null=True)
    max = models.FloatField(_("最大值"), null=True)
    flag = models.CharField(_("数据标记"), max_length=4, blank=True)
    received_at = models.DateTimeField(_("接收时间"))

    class Meta:
        managed = False
        db_table = "remote_sensing_cemsvalue"
        verbose_name = _("在线监测数据")
        verbose_name_plural = _("在线监测数据")
        ordering = ["device_mn", "pollutant_code", "data_time"]

    def __str__(self) -> str:
        return f"{self.device_mn} {self.pollutant_code} {self.data_time:%Y-%m-%d %H:%M} {self.avg}"
